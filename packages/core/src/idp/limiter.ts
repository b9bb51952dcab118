/**
 * A small concurrency cap for IdP calls. A burst of cache misses (a new deploy, a flood
 * of unknown tokens) must not open thousands of connections to the IdP at once, and an
 * IdP slowdown must not grow an unbounded queue in memory: callers past the queue limit
 * are shed at once with `UpstreamError` (503, retry later) instead.
 *
 * Tasks come in two lanes. A flood of random tokens is new by nature, so negative
 * caching cannot stop it; what it must not do is take the capacity callers we already
 * know need. Priority tasks (tokens the verifier has seen active) may use every slot and
 * have a queue of their own; other tasks are held to `maxConcurrent − reserved` slots and
 * half the queue, so a flood of junk is shed while known callers still get through.
 */
import { UpstreamError, ZitauthConfigError } from '../errors.js';

/** Options of {@link createLimiter}. */
export interface LimiterOptions {
  /** Tasks running at once. */
  maxConcurrent: number;
  /** Tasks waiting for a slot; one more is rejected with `UpstreamError`. */
  maxQueued: number;
  /**
   * Slots only priority tasks may use, and the share of the queue other tasks may not
   * fill: other tasks run in at most `maxConcurrent − reserved` slots (at least one) and
   * wait in at most half the queue. @default 0 (one lane)
   */
  reserved?: number;
}

/**
 * Runs `task` once a slot is free; rejects with `UpstreamError` when its lane's queue is
 * full. `priority` tasks may use the reserved slots and are served first.
 */
export type Limiter = <T>(task: () => Promise<T>, priority?: boolean) => Promise<T>;

/** Errors of callers the limiter shed: no IdP call was made, so they say nothing about it. */
const shedErrors = new WeakSet<object>();

/** True for the error of a caller shed because its queue was full. */
export function isShed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && shedErrors.has(error);
}

function requireCount(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ZitauthConfigError(`zitauth: ${name} must be an integer of at least ${min}`);
  }
}

function shed(): UpstreamError {
  const error = new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
    cause: new Error('too many IdP calls are waiting; the queue is full'),
  });
  shedErrors.add(error);
  return error;
}

interface Lane {
  running: number;
  readonly maxRunning: number;
  readonly maxQueued: number;
  readonly waiting: (() => void)[];
}

export function createLimiter(options: LimiterOptions): Limiter {
  requireCount(options.maxConcurrent, 'maxConcurrent', 1);
  requireCount(options.maxQueued, 'maxQueued', 0);
  const reserved = Math.min(options.reserved ?? 0, options.maxConcurrent - 1);
  requireCount(reserved, 'reserved', 0);
  const max = options.maxConcurrent;
  const high: Lane = { running: 0, maxRunning: max, maxQueued: options.maxQueued, waiting: [] };
  const low: Lane = {
    running: 0,
    maxRunning: max - reserved,
    maxQueued: reserved === 0 ? options.maxQueued : Math.floor(options.maxQueued / 2),
    waiting: [],
  };
  const running = (): number => high.running + low.running;
  const canRun = (lane: Lane): boolean => running() < max && lane.running < lane.maxRunning;

  // A finished task hands its slot straight to the next waiter (known callers first), so
  // newcomers cannot overtake the queue and no cap is ever exceeded.
  const dispatch = (): void => {
    for (const lane of [high, low]) {
      while (lane.waiting.length > 0 && canRun(lane)) {
        lane.running += 1;
        lane.waiting.shift()!();
      }
    }
  };

  return async <T>(task: () => Promise<T>, priority = false): Promise<T> => {
    const lane = priority || reserved === 0 ? high : low;
    if (lane.waiting.length === 0 && canRun(lane)) {
      lane.running += 1;
    } else if (lane.waiting.length < lane.maxQueued) {
      await new Promise<void>((resolve) => lane.waiting.push(resolve));
    } else {
      throw shed();
    }
    try {
      return await task();
    } finally {
      lane.running -= 1;
      dispatch();
    }
  };
}
