/**
 * A circuit breaker for IdP calls. When the IdP is down, every request that needs it would
 * otherwise wait for its own timeout and add to the IdP's load just as it tries to come
 * back. After `failureThreshold` consecutive failures the circuit opens: callers get
 * `UpstreamError` (503, `Retry-After` = the cool-off left) at once, without a call. After
 * `coolOffMs` one probe goes through (half-open); its success closes the circuit, its
 * failure opens it for another cool-off. Only upstream faults count: a refused token is
 * an answer, and a caller shed by the concurrency cap says nothing about the IdP.
 */
import { UpstreamError, ZitauthConfigError } from '../errors.js';

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** How long an open circuit refuses at once before one probe, in milliseconds. @default 10000 */
  coolOffMs?: number;
  /**
   * What an error says about the IdP: `'failure'` (its fault), `'neutral'` (nothing, e.g.
   * a caller shed before any call) or `'success'` (it answered). @default every
   * `UpstreamError` is a failure, anything else an answer
   */
  classify?: (error: unknown) => Outcome;
  /**
   * Called each time the circuit opens, with the failure that opened it and the number of
   * consecutive failures. What it returns (an operator fault, say) becomes the `cause` of
   * every refusal until the circuit closes, so each 503 of the cool-off tells the operator
   * why. @default refusals carry a plain Error
   */
  onOpen?: (error: unknown, failures: number) => unknown;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** What one call says about the IdP's health. */
export type Outcome = 'success' | 'failure' | 'neutral';

/** Runs `task` unless the circuit is open; rejects at once with `UpstreamError` when it is. */
export type CircuitBreaker = <T>(task: () => Promise<T>) => Promise<T>;

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_OFF_MS = 10_000;

function count(value: number | undefined, name: string, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min) {
    throw new ZitauthConfigError(`zitauth: ${name} must be a finite number of at least ${min}`);
  }
  return result;
}

export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const threshold = count(
    options.failureThreshold,
    'circuitBreaker.failureThreshold',
    DEFAULT_FAILURE_THRESHOLD,
    1,
  );
  const coolOffMs = count(options.coolOffMs, 'circuitBreaker.coolOffMs', DEFAULT_COOL_OFF_MS, 0);
  const classify =
    options.classify ??
    ((error: unknown): Outcome => (error instanceof UpstreamError ? 'failure' : 'success'));
  const now = options.now ?? Date.now;
  let failures = 0;
  let openUntil = -Infinity;
  let probing = false;
  let openCause: unknown;

  const refuse = (): never => {
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: openCause ?? new Error('the circuit to the IdP is open after repeated failures'),
      retryAfterSeconds: Math.max(1, (openUntil - now()) / 1000),
    });
  };

  const settle = (outcome: Outcome, error?: unknown): void => {
    if (outcome === 'neutral') return;
    if (outcome === 'success') {
      failures = 0;
      openUntil = -Infinity;
      openCause = undefined;
      return;
    }
    failures += 1;
    if (failures >= threshold) {
      const wasOpen = openUntil !== -Infinity;
      openUntil = now() + coolOffMs;
      if (!wasOpen) openCause = options.onOpen?.(error, failures);
    }
  };

  return async <T>(task: () => Promise<T>): Promise<T> => {
    const open = openUntil !== -Infinity;
    if (open && (now() < openUntil || probing)) refuse();
    const probe = open;
    if (probe) probing = true;
    try {
      const result = await task();
      settle('success');
      return result;
    } catch (error) {
      settle(classify(error), error);
      throw error;
    } finally {
      if (probe) probing = false;
    }
  };
}
