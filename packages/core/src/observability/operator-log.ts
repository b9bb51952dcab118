/**
 * The operator log: which failures an adapter reports through its framework's logger,
 * and how often. Only failures that are the operator's problem are reported (any zitauth
 * error answering 5xx: the IdP is unreachable, misconfigured, or zitauth is misused); a
 * caller's bad token (4xx) never is. Each distinct cause is reported once per interval,
 * so an outage under load yields a line a minute, not a line a request.
 */
import { isZitauthError } from '../errors.js';
import { describeCause, findOperatorFault, OperatorFault } from './operator-fault.js';

/** Options of {@link createOperatorLog}. */
export interface OperatorLogOptions {
  /** How long a reported cause stays quiet before it is reported again, in milliseconds. @default 60000 */
  intervalMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/**
 * Decides whether a failure is reported now: resolves the `OperatorFault` to log, or
 * undefined when the failure is the caller's, not zitauth's, or was reported within the
 * interval.
 */
export type OperatorLog = (error: unknown) => OperatorFault | undefined;

/** Distinct causes remembered at once; more are rare, and forgetting one only repeats a line. */
const MAX_CAUSES = 256;

/** The fault an operator should read for a 5xx zitauth error, or undefined for anything else. */
export function operatorFaultOf(error: unknown): OperatorFault | undefined {
  if (!isZitauthError(error)) return findOperatorFault(error);
  if (error.status < 500) return undefined;
  const found = findOperatorFault(error);
  if (found !== undefined) return found;
  const reason = error.cause === undefined ? '' : ` (${describeCause(error.cause)})`;
  return new OperatorFault('upstream', `zitauth: ${error.message}${reason}`, { cause: error });
}

/** Creates an operator log with its own memory of reported causes. */
export function createOperatorLog(options: OperatorLogOptions = {}): OperatorLog {
  const intervalMs = options.intervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const reportedAt = new Map<string, number>();
  return (error) => {
    const fault = operatorFaultOf(error);
    if (fault === undefined) return undefined;
    const at = now();
    const last = reportedAt.get(fault.key);
    if (last !== undefined && at - last < intervalMs) return undefined;
    reportedAt.delete(fault.key);
    reportedAt.set(fault.key, at);
    if (reportedAt.size > MAX_CAUSES) reportedAt.delete(reportedAt.keys().next().value!);
    return fault;
  };
}
