/**
 * CSRF protection for requests a session cookie authenticates and that change state
 * (logout, and proxied POST, PUT, PATCH, DELETE). They must carry the custom header
 * `X-Zitauth-CSRF`. A page on another origin cannot send a custom header without a CORS
 * preflight, and the gateway answers preflights only for its allowed origins, so a
 * forged form post or cross-site fetch never reaches the handler. The header needs no
 * secret value: its presence is the proof, which keeps the SPA free of any token (a
 * double-submit token would have to be readable by page script). `Origin`, when the
 * browser sends it, must also be the gateway's own or an allowed one.
 */
import type { FastifyRequest } from 'fastify';
import { GatewayError } from './http-errors.js';
import { headerValues, singleHeader } from './request-values.js';

export const CSRF_HEADER = 'x-zitauth-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function refuse(): GatewayError {
  return new GatewayError(
    403,
    'csrf_rejected',
    'State-changing requests need the X-Zitauth-CSRF header from an allowed origin',
  );
}

/** Throws 403 unless a state-changing request carries the header from a trusted origin. */
export function checkCsrf(request: FastifyRequest, trustedOrigins: readonly string[]): void {
  if (SAFE_METHODS.has(request.method)) return;
  const marker = singleHeader(request, CSRF_HEADER);
  if (marker === undefined || marker === '') throw refuse();
  const origins = headerValues(request.raw, 'origin');
  if (origins.length > 1) throw refuse();
  const origin = origins[0];
  if (origin !== undefined && !trustedOrigins.includes(origin)) throw refuse();
}
