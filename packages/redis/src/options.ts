/**
 * The options of the Redis tier and their checks. Mistakes throw a `ZitauthConfigError`
 * when the store is created, naming the option, so a fleet does not start half-configured.
 */
import type { ConnectionOptions } from 'node:tls';
import { checkOptionKeys, optionKeys, ZitauthConfigError } from '@zitauth/core';
import type { RedisStoreOptions } from './store.js';

/**
 * The part of a node-redis client (`createClient()` from `redis`, v4 or later) the tier uses.
 * Commands go through `sendCommand`, so any client of that family with a single node fits.
 */
export interface RedisClientLike {
  readonly isReady: boolean;
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * How to reach Redis (or Valkey) and how long to wait for it. `url`, `username` and
 * `password` accept `undefined`, so values read from the environment type-check.
 */
export interface RedisConnectionOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS. Ignored with `client`.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string | undefined;
  /**
   * A node-redis client to use instead of connecting. Its owner connects and closes it;
   * `close()` leaves it open. The command timeout and fallback below still apply.
   */
  client?: RedisClientLike;
  /** ACL user name (Redis ≥ 6 `AUTH user password`). @default the url's user, else 'default' */
  username?: string | undefined;
  /** ACL password; prefer this over a password in `url` so it stays out of logs. @default the url's */
  password?: string | undefined;
  /**
   * TLS: `true`, or `node:tls` connection options (a private CA, client certificate,
   * `servername`). @default true for a `rediss://` url, else false
   */
  tls?: boolean | ConnectionOptions;
  /** Prepended to every key, to share one Redis between applications. @default '' */
  keyPrefix?: string;
  /**
   * Longest wait for one Redis answer, in milliseconds. A slower answer counts as a failure:
   * the caller goes on without Redis. Keep it in the low milliseconds. @default 50
   */
  commandTimeoutMs?: number;
  /** Longest wait for a (re)connection to open, in milliseconds. @default 1000 */
  connectTimeoutMs?: number;
  /**
   * After a command fails or times out, how long Redis is skipped before it is tried again,
   * in milliseconds: a slow Redis then costs one timeout per interval, not one per request.
   * @default 1000
   */
  retryAfterMs?: number;
  /** Clock in epoch milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/** Connection options with defaults applied. */
export interface ResolvedConnection {
  url: string;
  client: RedisClientLike | undefined;
  username: string | undefined;
  password: string | undefined;
  tls: boolean | ConnectionOptions | undefined;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  retryAfterMs: number;
  now: () => number;
}

function invalid(message: string): ZitauthConfigError {
  return new ZitauthConfigError(`@zitauth/redis: ${message}`, 'ERR_ZITAUTH_INVALID_OPTION');
}

/** A duration option: a positive finite number of milliseconds, or its default. */
export function duration(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive number of milliseconds (got ${String(value)})`);
  }
  return value;
}

/** A count option: a positive integer, or its default. */
export function count(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw invalid(`${name} must be a positive integer (got ${String(value)})`);
  }
  return value;
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url must be a redis:// or rediss:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalid(`url must start with redis:// or rediss:// (got ${parsed.protocol}//)`);
  }
  return url;
}

/** The keys of the connection options, which every store takes. */
const CONNECTION_KEYS = optionKeys<RedisConnectionOptions>({
  url: true,
  client: true,
  username: true,
  password: true,
  tls: true,
  keyPrefix: true,
  commandTimeoutMs: true,
  connectTimeoutMs: true,
  retryAfterMs: true,
  now: true,
});

/** The keys `createRedisStore` reads besides the connection's. */
const STORE_KEYS = optionKeys<Omit<RedisStoreOptions, keyof RedisConnectionOptions>>({
  localMaxEntries: true,
  localTtlMs: true,
  lockTtlMs: true,
  lockWaitMs: true,
});

/**
 * Applies defaults and checks every connection option. `store` says which options object
 * this is, so an unknown key (a likely typo) is refused with the closest known one.
 */
export function resolveConnection(
  options: RedisConnectionOptions,
  store: 'createRedisStore' | 'createRedisKeyValueStore' = 'createRedisStore',
): ResolvedConnection {
  const known =
    store === 'createRedisStore' ? [...CONNECTION_KEYS, ...STORE_KEYS] : CONNECTION_KEYS;
  checkOptionKeys(options, known, `${store} options`, '@zitauth/redis');
  if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
    throw invalid('keyPrefix must be a string');
  }
  return {
    url: checkUrl(options.url ?? 'redis://127.0.0.1:6379'),
    client: options.client,
    username: options.username,
    password: options.password,
    tls: options.tls,
    keyPrefix: options.keyPrefix ?? '',
    commandTimeoutMs: duration(options.commandTimeoutMs, 'commandTimeoutMs', 50),
    connectTimeoutMs: duration(options.connectTimeoutMs, 'connectTimeoutMs', 1000),
    retryAfterMs: duration(options.retryAfterMs, 'retryAfterMs', 1000),
    now: options.now ?? Date.now,
  };
}
