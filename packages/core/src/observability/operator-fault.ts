/**
 * Faults that are the operator's to fix, not the caller's: a wrong issuer, refused
 * client credentials, an IdP that cannot be reached, an open circuit. Each becomes an
 * `OperatorFault` whose message says what is wrong and what to change; it travels as the
 * `cause` of the `UpstreamError` (503) the caller gets, is published once on
 * `zitauth:operator-fault` when it happens, and the adapters log it through the
 * framework's logger (see `operator-log.ts`). Its `expose` is false, so Koa's default
 * error listener prints it. Messages hold URLs and issuer values, never a token or secret.
 */
import { UpstreamError, ZitauthError } from '../errors.js';
import { operatorFaultChannel } from './channels.js';

/** What kind of operator problem a fault is; a stable set, for metrics and alerts. */
export type OperatorFaultKind =
  /** Discovery names another issuer than the configured one. */
  | 'issuer-mismatch'
  /** The discovery document could not be read (unreachable, error status, not JSON). */
  | 'discovery-unreachable'
  /** The IdP's discovery document lacks an endpoint zitauth needs. */
  | 'endpoint-missing'
  /** The key set could not be read or held no usable key. */
  | 'keys-unreachable'
  /** The introspection endpoint refused the API's client credentials (401/403). */
  | 'introspection-client-refused'
  /** The introspection endpoint could not be used (unreachable, error status, not JSON). */
  | 'introspection-unreachable'
  /** Calls to an IdP endpoint are suspended after repeated failures. */
  | 'circuit-open'
  /** zitauth is used in a way that cannot protect the route (e.g. a guard before `auth()`). */
  | 'misuse'
  /** Any other failure of the IdP or of zitauth's set-up. */
  | 'upstream';

/** Options of {@link OperatorFault}. */
export interface OperatorFaultOptions {
  /** The underlying error (network error, status, parse failure). */
  cause?: unknown;
}

/**
 * An operator problem. `message` names the wrong value and the fix, starting with
 * `zitauth:`; `kind` classifies it. Two faults with the same kind and message are the
 * same cause, and are logged once per interval.
 */
export class OperatorFault extends Error {
  override name = 'ZitauthOperatorFault';
  /** What kind of problem this is. */
  readonly kind: OperatorFaultKind;
  /** Koa's default error listener prints errors whose `expose` is not true. */
  readonly expose = false;

  constructor(kind: OperatorFaultKind, message: string, options: OperatorFaultOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
  }

  /** The identity of the cause, for de-duplication: kind and message. */
  get key(): string {
    return `${this.kind}\u0000${this.message}`;
  }
}

/**
 * Creates a fault and publishes it on `zitauth:operator-fault`. Use this (not `new`)
 * where a fault happens, so subscribers see each occurrence once; a fault shared by many
 * waiting requests is published once.
 */
export function reportOperatorFault(
  kind: OperatorFaultKind,
  message: string,
  options: OperatorFaultOptions = {},
): OperatorFault {
  const fault = new OperatorFault(kind, message, options);
  if (operatorFaultChannel.hasSubscribers) operatorFaultChannel.publish(fault);
  return fault;
}

/** The first `OperatorFault` in an error's cause chain, if any. */
export function findOperatorFault(error: unknown): OperatorFault | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    if (current instanceof OperatorFault) return current;
    current = current.cause;
  }
  return undefined;
}

/** The reason an error gives, from its own message unless it is zitauth's generic text. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = error instanceof ZitauthError ? [] : [error.message];
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && !(error instanceof ZitauthError)) own.push(`(${code})`);
  // A fault's message already tells its causes.
  const inner =
    error.cause instanceof Error && !(error instanceof OperatorFault) ? reasonOf(error.cause) : '';
  return [own.join(' '), inner].filter((part) => part !== '').join(': ');
}

/**
 * A readable reason for an error, from its cause chain: "fetch failed: connect
 * ECONNREFUSED 127.0.0.1:9 (ECONNREFUSED)". Capped, so a hostile IdP cannot flood logs.
 */
export function describeCause(error: unknown): string {
  const reason = reasonOf(error).replace(/[\r\n]+/g, ' ');
  return reason.length > 300 ? `${reason.slice(0, 300)}…` : reason || 'unknown error';
}

/**
 * Reports a fault and returns the `UpstreamError` (503) the caller gets, with the fault
 * as its cause. A timeout keeps its own code, so callers can still tell one apart.
 */
export function upstreamFault(
  kind: OperatorFaultKind,
  message: string,
  cause?: unknown,
): UpstreamError {
  const fault = reportOperatorFault(kind, message, cause === undefined ? {} : { cause });
  const timedOut = cause instanceof UpstreamError && cause.code === 'ERR_ZITAUTH_UPSTREAM_TIMEOUT';
  return new UpstreamError(timedOut ? 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' : 'ERR_ZITAUTH_UPSTREAM', {
    cause: fault,
  });
}
