/**
 * A generic key-value store on Redis with per-entry time to live: JSON values, atomic
 * set-if-absent (DPoP proof ids, locks), read-and-delete (one-time codes) and
 * count-with-expiry (rate limits, lockouts).
 * Unlike the cache store it does not hide Redis faults: it rejects with
 * `RedisUnavailableError`, so the caller chooses (e.g. a rate limit may fail open, a
 * session look-up must not invent a session).
 */
import { createConnection, type Connection } from './connection.js';
import { resolveConnection, type RedisConnectionOptions } from './options.js';

/** A shared key-value store with TTL. Every method rejects with `RedisUnavailableError` on a Redis fault. */
export interface RedisKeyValueStore<V> {
  /** The value, or undefined when absent, expired or not valid JSON. */
  get(key: string): Promise<V | undefined>;
  /** Stores `value` (JSON-serializable) for `ttlMs` milliseconds. */
  set(key: string, value: V, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Stores `value` for `ttlMs` milliseconds only if `key` is absent (`SET NX`); true when
   * stored. Of concurrent callers exactly one gets true: a DPoP replay store
   * (`dpop.replayStore` of core), a lock, a first-come claim.
   */
  setIfAbsent(key: string, value: V, ttlMs: number): Promise<boolean>;
  /** Reads and deletes in one atomic step: of concurrent callers, exactly one gets the value. */
  take(key: string): Promise<V | undefined>;
  /**
   * Adds 1 to a counter and returns the new count. The counter expires `ttlMs` milliseconds
   * after its first increment (a fixed window), atomically even across instances.
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Whether Redis answers right now (for a readiness probe); never rejects. */
  ping(): Promise<boolean>;
  /** Closes the connection this store opened (a client passed in stays open). */
  close(): Promise<void>;
}

// INCR and PEXPIRE in one script, so a counter can never be left without an expiry.
const INCREMENT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

function parse<V>(reply: unknown): V | undefined {
  if (typeof reply !== 'string') return undefined;
  try {
    return JSON.parse(reply) as V;
  } catch {
    return undefined;
  }
}

/** Redis takes whole milliseconds of at least 1. */
function wholeMs(ttlMs: number): string {
  return String(Math.max(1, Math.ceil(ttlMs)));
}

/** The store's operations over an open connection and a key prefix. */
export function keyValueOn<V>(
  connection: Connection,
  prefix: string,
): Omit<RedisKeyValueStore<V>, 'close' | 'ping'> {
  return {
    get: async (key) => parse<V>(await connection.command(['GET', prefix + key])),
    set: async (key, value, ttlMs) => {
      await connection.command(['SET', prefix + key, JSON.stringify(value), 'PX', wholeMs(ttlMs)]);
    },
    setIfAbsent: async (key, value, ttlMs) => {
      const reply = await connection.command([
        'SET',
        prefix + key,
        JSON.stringify(value),
        'NX',
        'PX',
        wholeMs(ttlMs),
      ]);
      return reply === 'OK';
    },
    delete: async (key) => {
      await connection.command(['DEL', prefix + key]);
    },
    take: async (key) => parse<V>(await connection.command(['GETDEL', prefix + key])),
    increment: async (key, ttlMs) =>
      Number(await connection.command(['EVAL', INCREMENT, '1', prefix + key, wholeMs(ttlMs)])),
  };
}

/** A key-value store on Redis or Valkey; see {@link RedisConnectionOptions}. */
export function createRedisKeyValueStore<V = unknown>(
  options: RedisConnectionOptions = {},
): RedisKeyValueStore<V> {
  const config = resolveConnection(options, 'createRedisKeyValueStore');
  const connection = createConnection(config);
  return {
    ...keyValueOn<V>(connection, config.keyPrefix),
    ping: () => connection.ping(),
    close: () => connection.close(),
  };
}
