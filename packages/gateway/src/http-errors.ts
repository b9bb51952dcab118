/**
 * The gateway's own error answers. Token errors come from core with their RFC 6750
 * challenge; everything else the gateway refuses (a replayed login state, an unknown M2M
 * client, a rate limit) answers the same `{ error, error_description }` shape, with a
 * fixed description: nothing from the request or from the IdP is ever echoed back.
 */
import type { FastifyReply } from 'fastify';

/** A refusal the gateway answers itself, thrown from a handler or hook. */
export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly statusCode: number;
  readonly error: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    error: string,
    description: string,
    headers: Record<string, string> = {},
  ) {
    super(description);
    this.statusCode = statusCode;
    this.error = error;
    this.headers = headers;
  }

  get body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

/** 400 `invalid_request`. */
export function badRequest(description: string): GatewayError {
  return new GatewayError(400, 'invalid_request', description);
}

/** 503 while the IdP cannot be reached; the client should retry later. */
export function idpUnavailable(retryAfterSeconds = 5): GatewayError {
  return new GatewayError(
    503,
    'temporarily_unavailable',
    'The identity provider cannot be reached; try again later',
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

/** Sends a `GatewayError`. Responses that carry or lead to credentials are never cached. */
export function sendGatewayError(reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers({ 'cache-control': 'no-store', ...error.headers })
    .send(error.body);
}
