/**
 * zitauth's Fastify error handler. Fastify's default handler would take the status and
 * `WWW-Authenticate` from the error but answer `{ statusCode, code, error, message }`;
 * this one answers `{ error, error_description }`, the same bytes as the Express and
 * Koa adapters. Any other error is rethrown, which Fastify hands to the parent scope's
 * handler (or, for a handler set later in the same scope, the one it replaced).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isZitauthError } from '@zitauth/core';
import { createFaultReporter, type FaultReporter } from './operator-log.js';

/** The handler's signature, as `setErrorHandler` takes it. */
type ErrorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply) => void;

/** The handler, reporting operator problems through `reportFault` (shared with the hooks). */
export function renderErrors(reportFault: FaultReporter): ErrorHandler {
  return function zitauthErrorHandler(error, request, reply) {
    if (!isZitauthError(error)) throw error;
    // Each failure quietly; the operator's problem behind a 5xx at warn, once per cause
    // per minute, so an outage under load is one line a minute, not one per request.
    reply.log.info({ err: error }, error.message);
    reportFault(request, error);
    void reply.code(error.status).headers(error.headers).send(error.body);
  };
}

/** A Fastify error handler that renders zitauth errors and rethrows every other error. */
export function errorHandler(): ErrorHandler {
  return renderErrors(createFaultReporter());
}
