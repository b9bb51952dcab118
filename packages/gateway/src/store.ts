/**
 * The one place the gateway keeps state that outlives a request: sessions, one-time codes,
 * rate-limit counters and lockouts. In memory by default (one process); on Redis for a
 * fleet, so every replica sees the same sessions and counts against the same limits.
 *
 * The Redis side is `@zitauth/redis`'s key-value store, not a second Redis layer. Unlike
 * the memory store it can fail: every method then rejects with `StoreUnavailableError`
 * and the caller decides. The gateway's rule: a rate limit or lockout fails open (logged
 * for the operator; an outage must not lock every user out), anything that grants access
 * (a session, a one-time code) fails closed with 503.
 */
import { createRedisKeyValueStore, type RedisConnectionOptions } from '@zitauth/redis';

/** Shared state with a time to live. Values are JSON: what goes in is what a replica reads. */
export interface GatewayStore {
  /** The value, or undefined when absent or expired. */
  get<V>(key: string): Promise<V | undefined>;
  /** Stores `value` (JSON-serializable) for `ttlMs` milliseconds. */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Reads and deletes in one atomic step: of concurrent callers, exactly one gets the value. */
  take<V>(key: string): Promise<V | undefined>;
  /**
   * Adds 1 to a counter and returns the new count. The counter expires `ttlMs` after its
   * first increment (a fixed window), atomically across replicas.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Whether the store answers now (readiness); never rejects. */
  ping(): Promise<boolean>;
  /** Releases what the store opened. */
  close(): Promise<void>;
}

/** The store did not answer; the caller fails open or closed as the data demands. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly code = 'ERR_ZITAUTH_STORE_UNAVAILABLE';
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most entries kept per namespace (the key up to its first `:`); past it the oldest
   * entry of that namespace is dropped. Separate bounds keep a flood of rate-limit
   * counters from evicting sessions. @default 100000
   */
  maxEntriesPerNamespace?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

interface Entry {
  json: string;
  expiresAt: number;
}

function namespaceOf(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? '' : key.slice(0, colon);
}

/** The default store: one process, bounded, expiring. It never rejects. */
export function createMemoryStore(options: MemoryStoreOptions = {}): GatewayStore {
  const maxEntries = options.maxEntriesPerNamespace ?? 100_000;
  const now = options.now ?? Date.now;
  // One Map per namespace; a Map iterates in insertion order, so the first key is the oldest.
  const spaces = new Map<string, Map<string, Entry>>();

  function space(key: string): Map<string, Entry> {
    const name = namespaceOf(key);
    let entries = spaces.get(name);
    if (entries === undefined) {
      entries = new Map();
      spaces.set(name, entries);
    }
    return entries;
  }

  function live(key: string): Entry | undefined {
    const entries = space(key);
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry;
    entries.delete(key);
    return undefined;
  }

  function put(key: string, entry: Entry): void {
    const entries = space(key);
    entries.delete(key);
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
    }
    entries.set(key, entry);
  }

  const parse = <V>(entry: Entry | undefined): V | undefined =>
    entry === undefined ? undefined : (JSON.parse(entry.json) as V);

  return {
    get: async (key) => parse(live(key)),
    set: async (key, value, ttlMs) => {
      put(key, { json: JSON.stringify(value), expiresAt: now() + ttlMs });
    },
    delete: async (key) => {
      space(key).delete(key);
    },
    take: async (key) => {
      const entry = live(key);
      space(key).delete(key);
      return parse(entry);
    },
    increment: async (key, ttlMs) => {
      const entry = live(key);
      const count = entry === undefined ? 1 : Number(entry.json) + 1;
      if (entry === undefined) put(key, { json: '1', expiresAt: now() + ttlMs });
      else entry.json = String(count);
      return count;
    },
    ping: async () => true,
    close: async () => spaces.clear(),
  };
}

/** Redis settings of the gateway's store: `@zitauth/redis`'s connection options. */
export type RedisStoreOptions = RedisConnectionOptions;

/**
 * Unlike a cache, a session read that times out is a refused request, so the gateway
 * waits longer for Redis than the cache tier's default and retries sooner after a fault.
 */
const REDIS_DEFAULTS = {
  keyPrefix: 'zitauth-gateway:',
  commandTimeoutMs: 1000,
  retryAfterMs: 250,
} as const;

/** Turns any failure into `StoreUnavailableError`, keeping it as the cause. */
function unavailable(error: unknown): never {
  throw new StoreUnavailableError('The gateway store (Redis) is not available', { cause: error });
}

/** The fleet store: `@zitauth/redis`'s key-value store, with its faults renamed. */
export function createRedisGatewayStore(options: RedisStoreOptions): GatewayStore {
  const kv = createRedisKeyValueStore<unknown>({ ...REDIS_DEFAULTS, ...options });
  return {
    get: async <V>(key: string) => (await kv.get(key).catch(unavailable)) as V | undefined,
    set: (key, value, ttlMs) => kv.set(key, value, ttlMs).catch(unavailable),
    delete: (key) => kv.delete(key).catch(unavailable),
    take: async <V>(key: string) => (await kv.take(key).catch(unavailable)) as V | undefined,
    increment: (key, ttlMs) => kv.increment(key, ttlMs).catch(unavailable),
    ping: () => kv.ping(),
    close: () => kv.close(),
  };
}

/**
 * Resolves once the store answers, or after `timeoutMs` (then the caller logs and starts
 * anyway: Redis may come up later, and a fleet should not refuse to boot for it).
 */
export async function waitForStore(store: GatewayStore, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await store.ping()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
