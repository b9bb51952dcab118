/**
 * Operator problems in Koa: a failure that is the operator's to fix (wrong issuer,
 * refused introspection credentials, an unreachable IdP) is emitted as an
 * `OperatorFault` on `app.emit('error')` once per cause per minute. Its `expose` is
 * false, so Koa's default listener prints it (message first, naming the fix) even when
 * the response itself is a well-formed 503; a caller's bad token (4xx) is never emitted.
 */
import type { ParameterizedContext } from 'koa';
import { createOperatorLog, MisuseError } from '@zitauth/core';

/** Reports `error` through `ctx.app`'s error event when it is a due operator problem. */
export type FaultReporter = (ctx: ParameterizedContext, error: unknown) => void;

/** A reporter with its own memory of reported causes (one per `auth()`). */
export function createFaultReporter(): FaultReporter {
  const operatorLog = createOperatorLog();
  return (ctx, error) => {
    const fault = operatorLog(error);
    if (fault !== undefined) ctx.app.emit('error', fault, ctx);
  };
}

/** One memory for the misuse that no zitauth middleware is there to report. */
const misuseLog = createFaultReporter();

/**
 * Emits the fault of `error` through `ctx` (when it is a Koa context) and returns
 * `error` to be thrown: for misuse found where no zitauth middleware can report it, such
 * as `getAuth(ctx)` on a route `auth()` does not cover.
 */
export function reportMisuse(ctx: unknown, error: MisuseError): MisuseError {
  if (typeof ctx === 'object' && ctx !== null && 'app' in ctx) {
    misuseLog(ctx as ParameterizedContext, error);
  }
  return error;
}

/**
 * Runs `make`, the body of a middleware factory. `app.use(auth)`, or a guard handed to a
 * route uncalled, makes Koa call the factory itself with its context as `first`: core
 * refuses that with a `MisuseError`, whose fault is emitted here through that context,
 * as no zitauth middleware exists yet to report it.
 */
export function buildOrReport<T>(first: unknown, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof MisuseError) reportMisuse(first, error);
    throw error;
  }
}
