/**
 * zitauth's Fastify error handler. Fastify's default handler would take the status and
 * `WWW-Authenticate` from the error but answer `{ statusCode, code, error, message }`;
 * this one answers `{ error, error_description }`, the same bytes as the Express and
 * Koa adapters. Any other error is rethrown, which Fastify hands to the parent scope's
 * handler (or, for a handler set later in the same scope, the one it replaced).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isZitauthError } from '@zitauth/core';

/** A Fastify error handler that renders zitauth errors and rethrows every other error. */
export function errorHandler(): (
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => void {
  return function zitauthErrorHandler(error, _request, reply) {
    if (!isZitauthError(error)) throw error;
    // Logged like Fastify's default handler does: outages loudly, client errors quietly.
    if (error.status >= 500) reply.log.error({ err: error }, error.message);
    else reply.log.info({ err: error }, error.message);
    void reply.code(error.status).headers(error.headers).send(error.body);
  };
}
