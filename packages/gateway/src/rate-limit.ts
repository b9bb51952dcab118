/**
 * A fixed-window request limiter per client address, for the routes an attacker would
 * hammer: login (each call costs a pending-login slot and an IdP round trip) and the M2M
 * token route (secret guessing). Memory is bounded: at most `maxClients` addresses are
 * tracked; when full, finished windows are dropped first, then the oldest. A dozen
 * lines of Map do this; a plugin dependency would not buy more.
 */

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Requests allowed per client per window. */
  max: number;
  /** Window length, in milliseconds. @default 60000 */
  windowMs?: number;
  /** Most client addresses tracked at once. @default 10000 */
  maxClients?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** The verdict on one request. */
export interface RateLimitResult {
  allowed: boolean;
  /** Whole seconds until the client's window resets (for `Retry-After`). */
  retryAfterSeconds: number;
}

/** Counts requests per key. */
export interface RateLimiter {
  hit(key: string): RateLimitResult;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxClients = options.maxClients ?? 10_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { count: number; resetAt: number }>();

  function makeRoom(time: number): void {
    for (const [key, window] of windows) {
      if (windows.size < maxClients && window.resetAt > time) return;
      windows.delete(key);
    }
  }

  return {
    hit(key) {
      const time = now();
      let window = windows.get(key);
      if (window === undefined || window.resetAt <= time) {
        windows.delete(key);
        makeRoom(time);
        window = { count: 0, resetAt: time + windowMs };
        // Re-inserted at the end: the Map stays ordered by window start.
        windows.set(key, window);
      }
      window.count += 1;
      return {
        allowed: window.count <= options.max,
        retryAfterSeconds: Math.max(1, Math.ceil((window.resetAt - time) / 1000)),
      };
    },
  };
}
