/**
 * One load per key across every instance sharing a Redis: the first instance to miss takes
 * a short lock (`SET … NX PX`), loads, stores the value and releases the lock; the others
 * poll for that value instead of calling the IdP themselves. The wait is bounded: past
 * `lockWaitMs`, or when Redis fails, an instance loads on its own, so a lost lock holder or
 * a dead Redis costs an extra IdP call, never a stuck request.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheFill } from '@zitauth/core';
import type { Connection } from './connection.js';

/** What the fleet fill needs from its store. */
export interface FleetFillDeps<V> {
  connection: Connection;
  /** The Redis key of an entry (prefix included). */
  redisKey(key: string): string;
  /** Reads a raw Redis reply into a value (and remembers it locally), or undefined. */
  read(key: string, reply: unknown): V | undefined;
  /** Stores a loaded value in every tier. */
  store(key: string, value: V, ttlMs: number): Promise<void>;
  lockTtlMs: number;
  lockWaitMs: number;
  now: () => number;
}

// Deletes the lock only if it is still ours: after its PX ran out another holder may own it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const HELD = Symbol('held');

type Waited<V> = { value: V } | { retry: boolean };

/** Builds `fill(key, load)` in the shape of core's `CacheStore.fill`. */
export function createFleetFill<V>(deps: FleetFillDeps<V>) {
  const lockOf = (key: string): string => `${deps.redisKey(key)}:lock`;

  /** Our lock id, `HELD` when another instance has the lock, undefined when Redis failed. */
  async function acquire(key: string): Promise<string | typeof HELD | undefined> {
    const id = randomUUID();
    const args = ['SET', lockOf(key), id, 'NX', 'PX', String(deps.lockTtlMs)];
    const reply = await deps.connection.command(args).catch(() => undefined);
    if (reply === 'OK') return id;
    return reply === null ? HELD : undefined;
  }

  async function release(key: string, id: string): Promise<void> {
    await deps.connection.command(['EVAL', RELEASE, '1', lockOf(key), id]).catch(() => undefined);
  }

  /** Polls for the holder's value; `retry` when its lock went away without one. */
  async function awaitValue(key: string, deadline: number): Promise<Waited<V>> {
    for (let round = 0; deps.now() < deadline; round += 1) {
      await sleep(Math.min(5 * 2 ** round, 50));
      const args = ['MGET', deps.redisKey(key), lockOf(key)];
      const reply = await deps.connection.command(args).catch(() => undefined);
      if (!Array.isArray(reply)) return { retry: false };
      const value = deps.read(key, reply[0]);
      if (value !== undefined) return { value };
      if (reply[1] === null) return { retry: true };
    }
    return { retry: false };
  }

  /**
   * The value, if another instance stored it between our miss and our lock (it took and
   * released the lock in that gap): checked again under the lock, or it would be loaded twice.
   */
  async function stored(key: string): Promise<V | undefined> {
    const reply = await deps.connection.command(['GET', deps.redisKey(key)]).catch(() => null);
    return deps.read(key, reply);
  }

  async function loadAndStore(key: string, load: () => Promise<CacheFill<V>>): Promise<V> {
    const { value, ttlMs } = await load();
    if (ttlMs > 0) await deps.store(key, value, ttlMs);
    return value;
  }

  return async function fill(key: string, load: () => Promise<CacheFill<V>>): Promise<V> {
    const deadline = deps.now() + deps.lockWaitMs;
    for (;;) {
      const lock = await acquire(key);
      if (lock === undefined) return loadAndStore(key, load);
      if (lock !== HELD) {
        try {
          return (await stored(key)) ?? (await loadAndStore(key, load));
        } finally {
          await release(key, lock);
        }
      }
      const waited = await awaitValue(key, deadline);
      if ('value' in waited) return waited.value;
      if (!waited.retry) return loadAndStore(key, load);
    }
  };
}
