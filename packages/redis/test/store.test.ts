// The two-level store against a real redis-server: stores stand for instances of a fleet.
// A result written by one is a hit on another, a local hit answers without a promise,
// entries never outlive their expiry, concurrent fills share one load, and a dead or
// frozen Redis degrades to loading alone, never to a failure or a hang.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '@zitauth/redis';
import { startRedisServer, type RedisServer } from './redis-server.js';

interface Value {
  n: number;
}

let redis: RedisServer;
let raw: ReturnType<typeof createClient>;
const stores: RedisStore<Value>[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined); // the test kills redis-server on purpose
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  raw.destroy();
  await redis.stop();
});

/** A connected store for one "instance"; closed after the test. */
async function instance(options: RedisStoreOptions = {}): Promise<RedisStore<Value>> {
  const store = createRedisStore<Value>({
    url: redis.url,
    keyPrefix: 'store-test:',
    // Generous, so a loaded test machine does not turn a slow answer into a miss.
    commandTimeoutMs: 2000,
    ...options,
  });
  stores.push(store);
  while (!(await store.ping())) await new Promise((resolve) => setTimeout(resolve, 10));
  return store;
}

let keys = 0;
const freshKey = (): string => `k${(keys += 1)}-${Date.now()}`;

/** A load that counts its calls and answers after a short pause (an IdP round trip). */
function countingLoad(value: Value, ttlMs = 60_000) {
  let calls = 0;
  const load = async () => {
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { value, ttlMs };
  };
  return { load, calls: () => calls };
}

describe('two levels', () => {
  it('serves a value one instance stored as a hit on another', async () => {
    const [a, b] = [await instance(), await instance()];
    const key = freshKey();
    await a.set(key, { n: 1 }, 60_000);
    await expect(b.get(key)).resolves.toEqual({ n: 1 });
  });

  it('answers a local hit synchronously with the same object', async () => {
    const a = await instance();
    const key = freshKey();
    await a.set(key, { n: 2 }, 60_000);
    const first = a.get(key);
    expect(first).toEqual({ n: 2 });
    expect(first).not.toBeInstanceOf(Promise);
    expect(a.get(key)).toBe(first);
  });

  it('keeps the entry in Redis no longer than its time to live', async () => {
    const a = await instance();
    const key = freshKey();
    await a.set(key, { n: 3 }, 1500);
    const ttl = await raw.pTTL(`store-test:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1500);
  });

  it('does not serve a copy past the expiry written with it', async () => {
    let time = Date.now();
    const b = await instance({ now: () => time });
    const key = freshKey();
    await raw.set(`store-test:${key}`, JSON.stringify({ v: { n: 4 }, e: time + 1000 }), {
      PX: 60_000,
    });
    await expect(b.get(key)).resolves.toEqual({ n: 4 });
    time += 1001;
    await expect(b.get(key)).resolves.toBeUndefined();
  });

  it('sees another instance’s newer value once its local copy is older than localTtlMs', async () => {
    let time = Date.now();
    const a = await instance();
    const b = await instance({ now: () => time, localTtlMs: 500 });
    const key = freshKey();
    await a.set(key, { n: 5 }, 60_000);
    await expect(b.get(key)).resolves.toEqual({ n: 5 });
    await a.set(key, { n: 6 }, 60_000);
    expect(b.get(key)).toEqual({ n: 5 });
    time += 501;
    await expect(b.get(key)).resolves.toEqual({ n: 6 });
  });

  it('treats a foreign or corrupt Redis value as a miss', async () => {
    const a = await instance();
    const key = freshKey();
    await raw.set(`store-test:${key}`, '{"v":"not an object","e":1}');
    await expect(a.get(key)).resolves.toBeUndefined();
    await raw.set(`store-test:${key}`, 'garbage');
    await expect(a.get(key)).resolves.toBeUndefined();
  });

  it('deletes from both levels', async () => {
    const [a, b] = [await instance(), await instance()];
    const key = freshKey();
    await a.set(key, { n: 7 }, 60_000);
    await a.delete(key);
    expect(await a.get(key)).toBeUndefined();
    await expect(b.get(key)).resolves.toBeUndefined();
  });
});

describe('fleet-wide fill', () => {
  it('runs one load for concurrent misses on many instances', async () => {
    const fleet = await Promise.all([instance(), instance(), instance()]);
    const key = freshKey();
    const { load, calls } = countingLoad({ n: 8 });
    const results = await Promise.all(
      fleet.flatMap((store) => [1, 2, 3].map(() => store.fill(key, load))),
    );
    expect(results).toEqual(Array.from({ length: 9 }, () => ({ n: 8 })));
    expect(calls()).toBe(1);
    expect(await raw.exists(`store-test:${key}:lock`)).toBe(0);
  });

  it('does not load a value another instance stored between the miss and the lock', async () => {
    const [a, b] = [await instance(), await instance()];
    const key = freshKey();
    await a.set(key, { n: 16 }, 60_000);
    const { load, calls } = countingLoad({ n: 17 });
    await expect(b.fill(key, load)).resolves.toEqual({ n: 16 });
    expect(calls()).toBe(0);
  });

  it('stores nothing for a result with no time to live left, and still answers', async () => {
    const a = await instance();
    const key = freshKey();
    await expect(a.fill(key, async () => ({ value: { n: 9 }, ttlMs: 0 }))).resolves.toEqual({
      n: 9,
    });
    expect(await raw.exists(`store-test:${key}`)).toBe(0);
  });

  it('lets a waiter load when the lock holder fails', async () => {
    const [a, b] = [await instance(), await instance()];
    const key = freshKey();
    const failing = a.fill(key, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('IdP down');
    });
    while ((await raw.exists(`store-test:${key}:lock`)) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const { load, calls } = countingLoad({ n: 10 });
    const waiting = b.fill(key, load);
    await expect(failing).rejects.toThrow('IdP down');
    await expect(waiting).resolves.toEqual({ n: 10 });
    expect(calls()).toBe(1);
  });

  it('loads alone once the wait for a lock holder passes lockWaitMs', async () => {
    const a = await instance({ lockWaitMs: 50 });
    const key = freshKey();
    await raw.set(`store-test:${key}:lock`, 'someone-who-crashed', { PX: 60_000 });
    const { load, calls } = countingLoad({ n: 11 });
    await expect(a.fill(key, load)).resolves.toEqual({ n: 11 });
    expect(calls()).toBe(1);
  });
});

describe('Redis faults', () => {
  it('answers from the load and the local level while Redis is unreachable', async () => {
    const down = createRedisStore<Value>({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 50 });
    stores.push(down);
    const key = freshKey();
    await expect(down.get(key)).resolves.toBeUndefined();
    const { load, calls } = countingLoad({ n: 12 });
    await expect(down.fill(key, load)).resolves.toEqual({ n: 12 });
    expect(down.get(key)).toEqual({ n: 12 });
    await expect(down.delete(key)).resolves.toBeUndefined();
    expect(calls()).toBe(1);
  });

  it('gives up on a frozen Redis after the command timeout and says so on zitauth:redis', async () => {
    const events: unknown[] = [];
    const listener = (event: unknown) => events.push(event);
    subscribe('zitauth:redis', listener);
    const a = await instance({ commandTimeoutMs: 30, retryAfterMs: 200 });
    redis.pause();
    try {
      await expect(a.get(freshKey())).resolves.toBeUndefined();
      const { load, calls } = countingLoad({ n: 13 });
      await expect(a.fill(freshKey(), load)).resolves.toEqual({ n: 13 });
      expect(calls()).toBe(1);
      expect(events).toContainEqual({
        state: 'unavailable',
        reason: 'RedisUnavailableError: Redis did not answer in time',
      });
    } finally {
      redis.resume();
      unsubscribe('zitauth:redis', listener);
    }
  });

  it('reconnects by itself after redis-server is killed and restarted', async () => {
    const a = await instance({ retryAfterMs: 10 });
    const key = freshKey();
    await redis.kill();
    await expect(a.get(key)).resolves.toBeUndefined();
    await a.set(key, { n: 14 }, 60_000);
    await redis.restart();
    await raw.connect().catch(() => undefined);
    const b = await instance();
    for (;;) {
      await a.set(key, { n: 15 }, 60_000);
      if ((await b.get(key)) !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await b.get(key)).toEqual({ n: 15 });
  });
});
