/**
 * The memory store (LRU bound, per-entry TTL on an injected clock), token cache keys
 * (hashed, never the token) and single-flight sharing that forgets failures.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSingleFlight,
  tokenCacheKey,
} from '../../src/verification/cache.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** A promise with its resolve/reject handles, to control when a task settles. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createMemoryStore', () => {
  it('stores, reads and deletes entries', () => {
    const store = createMemoryStore<{ v: number }>();
    expect(store.get('a')).toBeUndefined();
    store.set('a', { v: 1 }, 60_000);
    expect(store.get('a')).toEqual({ v: 1 });
    store.delete('a');
    expect(store.get('a')).toBeUndefined();
  });

  it('expires an entry after its TTL on the injected clock', () => {
    const time = clock();
    const store = createMemoryStore<{ v: number }>({ now: time.now });
    store.set('a', { v: 1 }, 100);
    time.advance(99);
    expect(store.get('a')).toEqual({ v: 1 });
    time.advance(2);
    expect(store.get('a')).toBeUndefined();
  });

  it('keeps a separate TTL per entry', () => {
    const time = clock();
    const store = createMemoryStore<{ v: number }>({ now: time.now });
    store.set('short', { v: 1 }, 10);
    store.set('long', { v: 2 }, 1_000);
    time.advance(500);
    expect(store.get('short')).toBeUndefined();
    expect(store.get('long')).toEqual({ v: 2 });
  });

  it('rounds a fractional TTL down but never below 1 ms', () => {
    const time = clock();
    const store = createMemoryStore<{ v: number }>({ now: time.now });
    store.set('a', { v: 1 }, 0.5);
    store.set('b', { v: 2 }, 3.9);
    expect(store.get('a')).toEqual({ v: 1 });
    time.advance(2);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toEqual({ v: 2 });
    time.advance(2);
    expect(store.get('b')).toBeUndefined();
  });

  it('drops the least recently used entry past maxEntries', () => {
    const store = createMemoryStore<{ v: number }>({ maxEntries: 2 });
    store.set('a', { v: 1 }, 60_000);
    store.set('b', { v: 2 }, 60_000);
    expect(store.get('a')).toEqual({ v: 1 }); // a is now the most recently used
    store.set('c', { v: 3 }, 60_000);
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')).toEqual({ v: 1 });
    expect(store.get('c')).toEqual({ v: 3 });
  });

  it('holds 10000 entries by default', () => {
    const store = createMemoryStore<{ v: number }>();
    for (let i = 0; i <= 10_000; i += 1) store.set(`k${i}`, { v: i }, 60_000);
    expect(store.get('k0')).toBeUndefined();
    expect(store.get('k1')).toEqual({ v: 1 });
    expect(store.get('k10000')).toEqual({ v: 10_000 });
  });
});

describe('tokenCacheKey', () => {
  it('is the prefix plus base64url SHA-256 of the token, never the token', () => {
    const token = 'opaque-token-value';
    const key = tokenCacheKey('introspect:', token);
    expect(key).toBe(`introspect:${createHash('sha256').update(token).digest('base64url')}`);
    expect(key).not.toContain(token);
    expect(key).toMatch(/^introspect:[A-Za-z0-9_-]{43}$/);
  });

  it('differs per token and per prefix', () => {
    expect(tokenCacheKey('a:', 't1')).not.toBe(tokenCacheKey('a:', 't2'));
    expect(tokenCacheKey('a:', 't1')).not.toBe(tokenCacheKey('b:', 't1'));
  });
});

describe('createSingleFlight', () => {
  it('runs a task once for concurrent callers of one key', async () => {
    const run = createSingleFlight<number>();
    const gate = deferred<number>();
    let calls = 0;
    const task = (): Promise<number> => {
      calls += 1;
      return gate.promise;
    };
    const first = run('k', task);
    const second = run('k', task);
    gate.resolve(7);
    await expect(Promise.all([first, second])).resolves.toEqual([7, 7]);
    expect(calls).toBe(1);
  });

  it('runs tasks of different keys separately', async () => {
    const run = createSingleFlight<string>();
    await expect(
      Promise.all([run('a', async () => 'A'), run('b', async () => 'B')]),
    ).resolves.toEqual(['A', 'B']);
  });

  it('runs the task again once the shared call settled', async () => {
    const run = createSingleFlight<number>();
    let calls = 0;
    const task = async (): Promise<number> => (calls += 1);
    await expect(run('k', task)).resolves.toBe(1);
    await expect(run('k', task)).resolves.toBe(2);
  });

  it('shares a failure with every waiting caller but does not remember it', async () => {
    const run = createSingleFlight<number>();
    const gate = deferred<number>();
    const failing = (): Promise<number> => gate.promise;
    const first = run('k', failing);
    const second = run('k', failing);
    gate.reject(new Error('IdP down'));
    await expect(first).rejects.toThrow('IdP down');
    await expect(second).rejects.toThrow('IdP down');
    await expect(run('k', async () => 5)).resolves.toBe(5);
  });
});
