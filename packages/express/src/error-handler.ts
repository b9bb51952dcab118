/**
 * An optional error handler that answers zitauth errors as JSON. Without it, Express's
 * default handler already sends the right status and `WWW-Authenticate` (it reads
 * `status` and `headers` from the error) but with an HTML body; with it, the body is
 * `{ error, error_description }`, the same in every zitauth adapter.
 */
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { isZitauthError } from '@zitauth/core';

/** Renders zitauth errors (status, headers, JSON body) and passes every other error on. */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    // Once headers are out, only Express's handler can end the response correctly.
    if (!isZitauthError(error) || res.headersSent) {
      next(error);
      return;
    }
    res.status(error.status).set(error.headers).json(error.body);
  };
}
