/**
 * The two-level cache for core's `cache.store`: an in-process LRU in front (a hit costs no
 * network round trip), Redis behind it (a result found by one instance is a hit on every
 * other), and a fleet-wide fill so concurrent misses share one IdP call. Redis faults never
 * reach the caller: a failed read is a miss, a failed write is skipped, a failed lock means
 * loading alone. Entries carry their absolute expiry, so a copy taken from Redis never
 * outlives the original; the local copy lives at most `localTtlMs`, which bounds how late
 * an instance sees a result another instance wrote (a token found inactive).
 */
import type { CacheFill, CacheStore, CachedResult } from '@zitauth/core';
import { LRUCache } from 'lru-cache';
import { createConnection } from './connection.js';
import { createFleetFill } from './fleet-fill.js';
import { keyValueOn } from './key-value.js';
import { count, duration, resolveConnection, type RedisConnectionOptions } from './options.js';

/** Options of {@link createRedisStore}: the connection plus the two tiers and the fleet lock. */
export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Entries kept in the in-process tier; the least recently used goes first. @default 10000 */
  localMaxEntries?: number;
  /**
   * Longest time an entry is served from the in-process tier before Redis is asked again,
   * in milliseconds: how late this instance sees what another one wrote. @default 5000
   */
  localTtlMs?: number;
  /** Longest time one instance holds the lock for a missing key, in milliseconds. @default 10000 */
  lockTtlMs?: number;
  /**
   * Longest time a miss waits for another instance's result before loading it itself, in
   * milliseconds. The default is core's IdP call timeout: giving up earlier would only start
   * a second call to an IdP that is already slow. @default 5000
   */
  lockWaitMs?: number;
}

/** A two-level cache store with a fleet-wide fill; plugs into core's `cache.store`. */
export interface RedisStore<V = CachedResult> extends CacheStore<V> {
  fill(key: string, load: () => Promise<CacheFill<V>>): Promise<V>;
  /** Whether Redis answers right now (for a readiness probe); never rejects. */
  ping(): Promise<boolean>;
  /** Closes the connection this store opened (a client passed in stays open). */
  close(): Promise<void>;
}

/** What Redis holds per key: the value and its absolute expiry in epoch milliseconds. */
interface Entry<V> {
  v: V;
  e: number;
}

function isEntry<V>(entry: unknown): entry is Entry<V> {
  if (typeof entry !== 'object' || entry === null) return false;
  const { v, e } = entry as Partial<Entry<V>>;
  return typeof e === 'number' && typeof v === 'object' && v !== null;
}

function parseEntry<V>(reply: unknown): Entry<V> | undefined {
  if (typeof reply !== 'string') return undefined;
  try {
    const entry: unknown = JSON.parse(reply);
    return isEntry<V>(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** The in-process level: entries live at most `localTtlMs`, and never past their expiry. */
function localLevel<V extends object>(options: RedisStoreOptions, now: () => number) {
  const localTtlMs = duration(options.localTtlMs, 'localTtlMs', 5000);
  const lru = new LRUCache<string, V>({
    max: count(options.localMaxEntries, 'localMaxEntries', 10_000),
    ttlResolution: 0,
    perf: { now },
  });
  return {
    get: (key: string) => lru.get(key),
    set: (key: string, value: V, ttlMs: number) => {
      lru.set(key, value, { ttl: Math.max(1, Math.min(ttlMs, localTtlMs)) });
    },
    /** Keeps a copy of a Redis entry until its own expiry at the latest. */
    remember: (key: string, entry: Entry<V> | undefined): V | undefined => {
      const left = entry === undefined ? 0 : entry.e - now();
      if (entry === undefined || left <= 0) return undefined;
      lru.set(key, entry.v, { ttl: Math.max(1, Math.min(left, localTtlMs)) });
      return entry.v;
    },
    delete: (key: string) => lru.delete(key),
  };
}

/**
 * A cache store on Redis or Valkey with an in-process LRU in front. Without type arguments
 * it stores core's verification results: `createVerifier({ …, cache: { store } })`.
 */
export function createRedisStore<V extends object = CachedResult>(
  options: RedisStoreOptions = {},
): RedisStore<V> {
  const config = resolveConnection(options);
  const { now, keyPrefix } = config;
  const lockTtlMs = duration(options.lockTtlMs, 'lockTtlMs', 10_000);
  const lockWaitMs = duration(options.lockWaitMs, 'lockWaitMs', 5000);
  const local = localLevel<V>(options, now);
  // Every option is checked above: a mistake must not leave a connection behind.
  const connection = createConnection(config);
  const remote = keyValueOn<Entry<V>>(connection, keyPrefix);

  async function set(key: string, value: V, ttlMs: number): Promise<void> {
    local.set(key, value, ttlMs);
    await remote.set(key, { v: value, e: now() + ttlMs }, ttlMs).catch(() => undefined);
  }
  const read = (key: string, reply: unknown) => local.remember(key, parseEntry<V>(reply));
  const redisKey = (key: string) => keyPrefix + key;
  const fill = createFleetFill<V>({
    connection,
    redisKey,
    read,
    store: set,
    lockTtlMs,
    lockWaitMs,
    now,
  });

  return {
    // A local hit answers synchronously: no promise, no round trip.
    get: (key) =>
      local.get(key) ??
      remote.get(key).then(
        (entry) => local.remember(key, isEntry<V>(entry) ? entry : undefined),
        () => undefined,
      ),
    set,
    delete: async (key) => {
      local.delete(key);
      await remote.delete(key).catch(() => undefined);
    },
    fill,
    ping: () => connection.ping(),
    close: () => connection.close(),
  };
}
