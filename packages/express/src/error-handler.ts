/**
 * An optional error handler that answers zitauth errors as JSON and reports operator
 * problems. Without it, Express's default handler already sends the right status and
 * `WWW-Authenticate` (it reads `status` and `headers` from the error) but with an HTML
 * body; with it, the body is `{ error, error_description }`, the same in every zitauth
 * adapter, and a failure that is the operator's to fix (wrong issuer, refused
 * introspection credentials, an unreachable IdP) is written to `log` once per cause per
 * minute. A caller's bad token (4xx) is never logged.
 */
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import {
  checkOptionKeys,
  createOperatorLog,
  isZitauthError,
  ZitauthConfigError,
  type OperatorFault,
} from '@zitauth/core';

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Where operator problems are written: their message names what to fix; the fault
   * carries `kind` and `cause`. Called once per distinct cause per minute.
   * @default (message) => console.warn(message)
   */
  log?: (message: string, fault: OperatorFault) => void;
}

function warn(message: string): void {
  console.warn(message);
}

/** Renders zitauth errors (status, headers, JSON body) and passes every other error on. */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  checkOptionKeys(options, ['log'], 'errorHandler options');
  const log = options.log ?? warn;
  if (typeof log !== 'function') {
    throw new ZitauthConfigError('zitauth: errorHandler({ log }) needs a function');
  }
  const operatorLog = createOperatorLog();
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const fault = operatorLog(error);
    if (fault !== undefined) log(fault.message, fault);
    // Once headers are out, only Express's handler can end the response correctly.
    if (!isZitauthError(error) || res.headersSent) {
      next(error);
      return;
    }
    res.status(error.status).set(error.headers).json(error.body);
  };
}
