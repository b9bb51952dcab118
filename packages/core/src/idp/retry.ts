/**
 * Bounded retries with exponential backoff and jitter, for calls that fail for reasons
 * that may pass (IdP restarts, 5xx, timeouts). The number of attempts and the longest
 * wait are capped so a caller never hangs for long behind a dead IdP, and the jitter
 * keeps a fleet of instances that failed together from retrying in lockstep. Waits end
 * early when the owner's signal aborts.
 */
import { ZitauthConfigError } from '../errors.js';

/** Retry settings, as given by the user. */
export interface RetryOptions {
  /** Attempts in total, the first one included; 1 turns retries off. @default 3 */
  attempts?: number;
  /** Wait before the first retry, in milliseconds; doubled for each further retry. @default 200 */
  baseDelayMs?: number;
  /** Longest wait between two attempts, in milliseconds. @default 2000 */
  maxDelayMs?: number;
}

/** Retry settings with every default applied. */
export type RetryPolicy = Required<RetryOptions>;

function checkNumber(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ZitauthConfigError(`zitauth: ${name} must be a finite number ≥ ${min}`);
  }
  return value;
}

/** Applies defaults and checks ranges; throws `ZitauthConfigError`. */
export function resolveRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  const attempts = checkNumber(options.attempts, 3, 'retry.attempts', 1);
  if (!Number.isInteger(attempts)) {
    throw new ZitauthConfigError('zitauth: retry.attempts must be a whole number ≥ 1');
  }
  const baseDelayMs = checkNumber(options.baseDelayMs, 200, 'retry.baseDelayMs', 0);
  const maxDelayMs = checkNumber(options.maxDelayMs, 2_000, 'retry.maxDelayMs', 0);
  return { attempts, baseDelayMs, maxDelayMs: Math.max(maxDelayMs, baseDelayMs) };
}

/**
 * Wait before retry number `retry` (1 for the first retry): half of the capped
 * exponential delay plus a random part of the other half ("equal jitter"), so waits
 * spread out but never collapse to zero.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** How {@link withRetry} decides and waits. */
export interface RetryControl {
  /** Whether a failure may pass on its own. */
  retryable(error: unknown): boolean;
  /** Stops retrying (the last error is thrown) once aborted. */
  signal?: AbortSignal;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

/** Runs `task` until it succeeds, fails for good, or the attempts run out. */
export async function withRetry<T>(
  task: () => Promise<T>,
  policy: RetryPolicy,
  control: RetryControl,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      const last = attempt >= policy.attempts || control.signal?.aborted === true;
      if (last || !control.retryable(error)) throw error;
      await sleep(backoffDelay(attempt, policy, control.random), control.signal).catch(() => {
        throw error;
      });
    }
  }
}
