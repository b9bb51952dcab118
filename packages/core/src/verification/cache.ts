/**
 * Caching behind one small store interface, so a fleet can share results (e.g. on
 * Redis) while a single process uses the bounded in-memory LRU. Keys are always the
 * SHA-256 of the token, never the token itself: a cache dump or a Redis `KEYS *` must
 * not hand out live credentials.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** What a cache miss loads: the value, and how long it may be kept in milliseconds (≤ 0: not kept). */
export interface CacheFill<V> {
  value: V;
  ttlMs: number;
}

/** A key-value store with per-entry time to live. Methods may be sync or async. */
export interface CacheStore<V = unknown> {
  get(key: string): V | undefined | Promise<V | undefined>;
  /** Stores `value` for `ttlMs` milliseconds (always > 0). */
  set(key: string, value: V, ttlMs: number): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /**
   * Optional: fills a missed `key` by running `load` once for every process sharing the
   * store (a shared store's lock lets the others wait for the value the first one stores).
   * Stores the value when `ttlMs` > 0 and returns it. It rejects only with `load`'s own
   * error: a store fault must fall back to running `load`. Without it, core shares one
   * load per process and stores the result with `set`.
   */
  fill?(key: string, load: () => Promise<CacheFill<V>>): Promise<V>;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used is dropped first. @default 10000 */
  maxEntries?: number;
  /** Clock in epoch milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/** The in-process store: every method is synchronous, so a hit needs no promise. */
export interface MemoryStore<V> extends CacheStore<V> {
  get(key: string): V | undefined;
  set(key: string, value: V, ttlMs: number): void;
  delete(key: string): void;
}

/** The default store: a bounded in-process LRU with per-entry TTL. */
export function createMemoryStore<V extends object>(
  options: MemoryStoreOptions = {},
): MemoryStore<V> {
  const now = options.now ?? Date.now;
  const lru = new LRUCache<string, V>({
    max: options.maxEntries ?? 10_000,
    ttlAutopurge: false,
    // lru-cache otherwise reuses one clock reading for 1 ms of real time, so an entry read
    // right after an injected clock moved past its TTL would still be served.
    ttlResolution: 0,
    perf: { now },
  });
  return {
    get: (key) => lru.get(key),
    set: (key, value, ttlMs) => {
      lru.set(key, value, { ttl: Math.max(1, Math.floor(ttlMs)) });
    },
    delete: (key) => {
      lru.delete(key);
    },
  };
}

/** base64url(SHA-256(token)): how a token is named in every cache, never by itself. */
export function tokenHash(token: string): string {
  // One-shot hashing (Node ≥ 20.12) skips the Hash object: it is on every request's path.
  return hash('sha256', token, 'base64url');
}

/** The cache key of a token in a store: `prefix` + base64url(SHA-256(token)). */
export function tokenCacheKey(prefix: string, token: string): string {
  return prefix + tokenHash(token);
}

/**
 * Shares one in-flight promise per key: concurrent callers of `run(key, task)` get the
 * same result and the task runs once. The entry is dropped when the promise settles,
 * so a failure is never remembered.
 */
export function createSingleFlight<T>(): (key: string, task: () => Promise<T>) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key, task) => {
    const existing = inFlight.get(key);
    if (existing !== undefined) return existing;
    const promise = task().finally(() => inFlight.delete(key));
    inFlight.set(key, promise);
    return promise;
  };
}
