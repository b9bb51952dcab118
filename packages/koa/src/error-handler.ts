/**
 * An optional middleware, mounted first, that answers zitauth errors as JSON. Without
 * it, Koa's `ctx.onerror` already sends the right status and `WWW-Authenticate` (it
 * reads `status`, `expose` and `headers` from the error) with a plain-text body; with
 * it, the body is `{ error, error_description }`, the same in every zitauth adapter.
 */
import type { Middleware } from 'koa';
import { isZitauthError } from '@zitauth/core';

/**
 * Renders zitauth errors (status, headers, JSON body) and rethrows every other error.
 * The refusal is taken as a rejection, not caught from an `await`, which would throw it
 * once more on the way.
 */
export function errorHandler(): Middleware {
  return (ctx, next) =>
    next().then(undefined, (error: unknown) => {
      // Once headers are out, only Koa's handler can end the response correctly.
      if (!isZitauthError(error) || ctx.headerSent) throw error;
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = error.body;
      // An unreachable IdP is an operations problem: let `app.on('error')` see it, as
      // Koa's own handler would; 4xx answers are the caller's problem and stay quiet.
      if (error.status >= 500) ctx.app.emit('error', error, ctx);
    });
}
