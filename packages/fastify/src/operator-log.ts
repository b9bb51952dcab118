/**
 * Operator problems in Fastify: a failure that is the operator's to fix (wrong issuer,
 * refused introspection credentials, an unreachable IdP) is logged at `warn` through
 * `request.log` once per cause per minute, with the `OperatorFault` as `err`. A caller's
 * bad token (4xx) is never logged at warn.
 */
import type { FastifyRequest } from 'fastify';
import { createOperatorLog } from '@zitauth/core';

/** Logs `error` through the request's logger when it is a due operator problem. */
export type FaultReporter = (request: FastifyRequest, error: unknown) => void;

/** A reporter with its own memory of reported causes (one per plugin registration). */
export function createFaultReporter(): FaultReporter {
  const operatorLog = createOperatorLog();
  return (request, error) => {
    const fault = operatorLog(error);
    if (fault !== undefined) request.log.warn({ err: fault, kind: fault.kind }, fault.message);
  };
}
