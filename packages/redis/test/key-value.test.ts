// The generic key-value store against a real redis-server: JSON values with TTL, atomic
// take and count-with-expiry, the key prefix, an adopted client, and rejection (not a
// hang) while Redis is down.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeyValueStore, type RedisKeyValueStore } from '@zitauth/redis';
import { startRedisServer, type RedisServer } from './redis-server.js';

let redis: RedisServer;
let raw: ReturnType<typeof createClient>;
let kv: RedisKeyValueStore<{ user: string }>;

beforeAll(async () => {
  redis = await startRedisServer();
  raw = createClient({ url: redis.url });
  await raw.connect();
  kv = createRedisKeyValueStore({ url: redis.url, keyPrefix: 'kv-test:' });
  await eventuallyReady();
});
afterAll(async () => {
  await kv.close();
  raw.destroy();
  await redis.stop();
});

/** The store connects in the background; a first write proves it is up. */
async function eventuallyReady(): Promise<void> {
  for (;;) {
    const ok = await kv.set('ready', { user: 'x' }, 1000).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('createRedisKeyValueStore', () => {
  it('stores JSON values under the prefix with a time to live', async () => {
    await kv.set('session-1', { user: 'ada' }, 60_000);
    await expect(kv.get('session-1')).resolves.toEqual({ user: 'ada' });
    expect(await raw.get('kv-test:session-1')).toBe('{"user":"ada"}');
    const ttl = await raw.pTTL('kv-test:session-1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('answers undefined for a missing key and for a value that is not JSON', async () => {
    await raw.set('kv-test:garbage', '{not json');
    await expect(kv.get('missing')).resolves.toBeUndefined();
    await expect(kv.get('garbage')).resolves.toBeUndefined();
  });

  it('deletes a key', async () => {
    await kv.set('gone', { user: 'bob' }, 60_000);
    await kv.delete('gone');
    await expect(kv.get('gone')).resolves.toBeUndefined();
  });

  it('hands a taken value to exactly one of many concurrent callers', async () => {
    await kv.set('code', { user: 'ada' }, 60_000);
    const taken = await Promise.all(Array.from({ length: 10 }, () => kv.take('code')));
    expect(taken.filter((value) => value !== undefined)).toEqual([{ user: 'ada' }]);
  });

  it('stores a key for exactly one of many concurrent set-if-absent callers', async () => {
    const stored = await Promise.all(
      Array.from({ length: 10 }, (_, i) => kv.setIfAbsent('claim', { user: `u${i}` }, 30_000)),
    );
    expect(stored.filter(Boolean)).toHaveLength(1);
    const ttl = await raw.pTTL('kv-test:claim');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await kv.delete('claim');
    await expect(kv.setIfAbsent('claim', { user: 'again' }, 30_000)).resolves.toBe(true);
  });

  it('counts atomically and expires the counter from its first increment', async () => {
    const counts = await Promise.all(
      Array.from({ length: 20 }, () => kv.increment('hits', 30_000)),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const ttl = await raw.pTTL('kv-test:hits');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('uses an existing client and leaves it open on close', async () => {
    const adopted = createRedisKeyValueStore<string>({ client: raw, keyPrefix: 'adopted:' });
    await adopted.set('k', 'v', 60_000);
    await expect(adopted.get('k')).resolves.toBe('v');
    await adopted.close();
    expect(raw.isReady).toBe(true);
  });

  it('rejects with RedisUnavailableError while Redis is down', async () => {
    const down = createRedisKeyValueStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 50 });
    await expect(down.get('k')).rejects.toMatchObject({
      name: 'RedisUnavailableError',
      code: 'ERR_ZITAUTH_REDIS_UNAVAILABLE',
    });
    await expect(down.increment('k', 1000)).rejects.toMatchObject({
      name: 'RedisUnavailableError',
    });
    await down.close();
  });
});
