/**
 * One Redis connection that can never hold a request up. node-redis reconnects by itself,
 * but its per-command `timeout` only covers the wait to be written: a command already sent
 * to a Redis that stopped answering waits for ever. So every command here races its own
 * deadline, and after a failure Redis is skipped for `retryAfterMs`, so a slow or dead
 * Redis costs one timeout per interval instead of one per request.
 */
import { channel } from 'node:diagnostics_channel';
import { createClient } from 'redis';
import type { RedisClientLike, ResolvedConnection } from './options.js';

/** Why a Redis command was not answered; callers fall back to their own cache or source. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  readonly code = 'ERR_ZITAUTH_REDIS_UNAVAILABLE';
}

/** What the tier publishes on `zitauth:redis` when Redis stops or starts answering. */
export interface RedisStateEvent {
  state: 'unavailable' | 'available';
  /** The failure's class and message (never a key, value or password). */
  reason?: string;
}

const stateChannel = channel('zitauth:redis');

/** A connection's command runner. */
export interface Connection {
  /** Sends one command; rejects with `RedisUnavailableError` when Redis is skipped, down or slow. */
  command(args: string[]): Promise<unknown>;
  /** Whether Redis answers PING now; never rejects. */
  ping(): Promise<boolean>;
  /** Closes the connection this tier opened (a client passed in stays open). */
  close(): Promise<void>;
}

/** Backs off 50 ms, 100 ms, … up to 2 s between reconnection attempts, with jitter. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 50);
}

function socketOptions(config: ResolvedConnection) {
  const common = { connectTimeout: config.connectTimeoutMs, reconnectStrategy: reconnectDelay };
  if (config.tls === undefined) return common;
  if (config.tls === false) return { ...common, tls: false as const };
  return { ...common, ...(config.tls === true ? {} : config.tls), tls: true as const };
}

/** A node-redis client from the options; it connects in the background and keeps reconnecting. */
function openClient(config: ResolvedConnection) {
  const client = createClient({
    url: config.url,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    socket: socketOptions(config),
    // Commands sent while disconnected fail at once instead of queueing behind a reconnect.
    disableOfflineQueue: true,
  });
  return client;
}

/**
 * Rejects with `RedisUnavailableError` once `ms` pass; a late answer or failure is dropped.
 * The rejection waits for one turn of I/O (setImmediate runs after the poll phase): when
 * this process itself was busy past the deadline, a reply already in the socket still wins,
 * so only a slow Redis counts as one.
 */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      setImmediate(() => reject(new RedisUnavailableError('Redis did not answer in time')));
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown failure';
}

/** Opens (or adopts) a client and wraps its commands with the deadline and the back-off. */
export function createConnection(config: ResolvedConnection): Connection {
  const owned = config.client === undefined ? openClient(config) : undefined;
  const client: RedisClientLike = config.client ?? owned!;
  let skipUntil = 0;
  let available = true;

  function report(event: RedisStateEvent): void {
    available = event.state === 'available';
    if (stateChannel.hasSubscribers) stateChannel.publish(event);
  }
  // Without a listener, node-redis's `error` events would crash the process.
  client.on('error', (error) => {
    if (available) report({ state: 'unavailable', reason: describe(error) });
  });
  owned?.connect().catch(() => undefined);

  async function command(args: string[]): Promise<unknown> {
    if (!client.isReady || config.now() < skipUntil) {
      throw new RedisUnavailableError('Redis is not available');
    }
    try {
      const reply = await withDeadline(client.sendCommand(args), config.commandTimeoutMs);
      if (!available) report({ state: 'available' });
      return reply;
    } catch (error) {
      skipUntil = config.now() + config.retryAfterMs;
      if (available) report({ state: 'unavailable', reason: describe(error) });
      if (error instanceof RedisUnavailableError) throw error;
      throw new RedisUnavailableError('Redis command failed', { cause: error });
    }
  }

  async function close(): Promise<void> {
    if (owned === undefined) return;
    // destroy(), not close(): close() waits for replies a dead Redis never sends.
    if (owned.isOpen) owned.destroy();
  }

  const ping = (): Promise<boolean> =>
    command(['PING']).then(
      (reply) => reply === 'PONG',
      () => false,
    );

  return { command, ping, close };
}
