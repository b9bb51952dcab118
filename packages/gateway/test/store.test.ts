// The gateway store: the in-memory default (TTL, atomic take and count, per-namespace
// bounds) and the Redis store against a real redis-server, including how it fails.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  createRedisGatewayStore,
  StoreUnavailableError,
  type GatewayStore,
} from '@zitauth/gateway';
import { startRedisServer, type RedisServer } from '../../redis/test/redis-server.js';
import { waitForStore } from '../src/store.js';

describe('createMemoryStore', () => {
  it('keeps a JSON copy of a value until its time to live ends', async () => {
    let now = 1000;
    const store = createMemoryStore({ now: () => now });
    const value = { user: 'ada', roles: ['editor'] };
    await store.set('session:1', value, 500);
    value.roles.push('admin');
    await expect(store.get('session:1')).resolves.toEqual({ user: 'ada', roles: ['editor'] });
    now = 1499;
    await expect(store.get('session:1')).resolves.toBeDefined();
    now = 1500;
    await expect(store.get('session:1')).resolves.toBeUndefined();
  });

  it('hands a taken value out once', async () => {
    const store = createMemoryStore();
    await store.set('code:x', 'secret', 10_000);
    await expect(store.take('code:x')).resolves.toBe('secret');
    await expect(store.take('code:x')).resolves.toBeUndefined();
    await expect(store.get('code:x')).resolves.toBeUndefined();
  });

  it('does not hand out an expired value', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    await store.set('code:x', 'secret', 10);
    now = 10;
    await expect(store.take('code:x')).resolves.toBeUndefined();
  });

  it('counts in a fixed window that starts with the first increment', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    await expect(store.increment('rate:a', 100)).resolves.toBe(1);
    now = 60;
    await expect(store.increment('rate:a', 100)).resolves.toBe(2);
    now = 100;
    await expect(store.increment('rate:a', 100)).resolves.toBe(1);
    await expect(store.increment('rate:b', 100)).resolves.toBe(1);
  });

  it('deletes a key', async () => {
    const store = createMemoryStore();
    await store.set('session:1', 1, 10_000);
    await store.delete('session:1');
    await expect(store.get('session:1')).resolves.toBeUndefined();
  });

  it('bounds each namespace on its own, so counters cannot evict sessions', async () => {
    const store = createMemoryStore({ maxEntriesPerNamespace: 3 });
    await store.set('session:keep', 'me', 60_000);
    for (let i = 0; i < 100; i += 1) await store.increment(`rate:login:${i}`, 60_000);
    await expect(store.get('session:keep')).resolves.toBe('me');
    // The oldest counters made room for the newest.
    await expect(store.increment('rate:login:99', 60_000)).resolves.toBe(2);
    await expect(store.increment('rate:login:0', 60_000)).resolves.toBe(1);
  });

  it('answers ping', async () => {
    await expect(createMemoryStore().ping()).resolves.toBe(true);
  });
});

describe('createRedisGatewayStore', () => {
  let redis: RedisServer;
  let store: GatewayStore;
  let other: GatewayStore;

  beforeAll(async () => {
    redis = await startRedisServer();
    store = createRedisGatewayStore({ url: redis.url });
    other = createRedisGatewayStore({ url: redis.url });
    expect(await waitForStore(store, 10_000)).toBe(true);
    expect(await waitForStore(other, 10_000)).toBe(true);
  });
  afterAll(async () => {
    await store.close();
    await other.close();
    await redis.stop();
  });

  it('shares values between two stores (two replicas)', async () => {
    await store.set('session:s1', { user: 'ada' }, 60_000);
    await expect(other.get('session:s1')).resolves.toEqual({ user: 'ada' });
    await other.delete('session:s1');
    await expect(store.get('session:s1')).resolves.toBeUndefined();
  });

  it('hands a taken value to exactly one of many concurrent callers', async () => {
    await store.set('code:c1', 'one-time', 60_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).take('code:c1')),
    );
    expect(results.filter((value) => value === 'one-time')).toHaveLength(1);
  });

  it('counts across both stores in one window', async () => {
    const counts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? store : other).increment('rate:x', 60_000),
      ),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('lets a value expire', async () => {
    await store.set('session:short', 'x', 30);
    await vi.waitFor(async () => expect(await other.get('session:short')).toBeUndefined());
  });

  it('rejects with StoreUnavailableError while Redis is down, and recovers', async () => {
    await redis.kill();
    await expect(store.get('session:any')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.increment('rate:y', 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).resolves.toBe(false);
    await redis.restart();
    expect(await waitForStore(store, 10_000)).toBe(true);
    await store.set('session:back', 1, 60_000);
    await expect(store.get('session:back')).resolves.toBe(1);
  });
});
