/**
 * A fixed-window request limiter per client key, for the routes an attacker would hammer:
 * login (each call costs an IdP round trip) and the M2M token route (secret guessing).
 * The counters live in the gateway store, so with Redis every replica counts against the
 * same limit. Windows are aligned to the clock (window n covers [n·w, (n+1)·w)), so all
 * replicas agree on when a window ends without sharing anything but the counter.
 */
import type { GatewayStore } from './store.js';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Where the counters live. */
  store: GatewayStore;
  /** Names this limiter's counters (e.g. `login`), so limiters do not share counts. */
  name: string;
  /** Requests allowed per client per window. */
  max: number;
  /** Window length, in milliseconds. @default 60000 */
  windowMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** The verdict on one request. */
export interface RateLimitResult {
  allowed: boolean;
  /** Whole seconds until the client's window resets (for `Retry-After`). */
  retryAfterSeconds: number;
}

/** Counts requests per key. Rejects when the store does; the caller decides what that means. */
export interface RateLimiter {
  hit(key: string): Promise<RateLimitResult>;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  return {
    async hit(key) {
      const time = now();
      const window = Math.floor(time / windowMs);
      const endsIn = (window + 1) * windowMs - time;
      const count = await options.store.increment(`rate:${options.name}:${window}:${key}`, endsIn);
      return {
        allowed: count <= options.max,
        retryAfterSeconds: Math.max(1, Math.ceil(endsIn / 1000)),
      };
    },
  };
}
