/**
 * A small concurrency cap for IdP calls. A burst of cache misses (a new deploy, a flood
 * of unknown tokens) must not open thousands of connections to the IdP at once, and an
 * IdP slowdown must not grow an unbounded queue in memory: callers past the queue limit
 * are shed at once with `UpstreamError` (503, retry later) instead.
 */
import { UpstreamError, ZitauthConfigError } from './errors.js';

/** Options of {@link createLimiter}. */
export interface LimiterOptions {
  /** Tasks running at once. */
  maxConcurrent: number;
  /** Tasks waiting for a slot; one more is rejected with `UpstreamError`. */
  maxQueued: number;
}

/** Runs `task` once a slot is free; rejects with `UpstreamError` when the queue is full. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

function requireCount(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ZitauthConfigError(`zitauth: ${name} must be an integer of at least ${min}`);
  }
}

export function createLimiter(options: LimiterOptions): Limiter {
  requireCount(options.maxConcurrent, 'maxConcurrent', 1);
  requireCount(options.maxQueued, 'maxQueued', 0);
  let running = 0;
  const waiting: (() => void)[] = [];

  // A finished task hands its slot straight to the next waiter, so newcomers cannot
  // overtake the queue and `running` never exceeds the cap.
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) running -= 1;
    else next();
  };

  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < options.maxConcurrent) {
      running += 1;
    } else if (waiting.length < options.maxQueued) {
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
        cause: new Error('too many IdP calls are waiting; the queue is full'),
      });
    }
    try {
      return await task();
    } finally {
      release();
    }
  };
}
