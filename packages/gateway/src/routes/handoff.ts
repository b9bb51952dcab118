/**
 * `POST /api/v1/handoff` (token mode): the page redeems the one-time code of its login
 * with the secret it made when it started the login, and receives the access token.
 * Body: JSON or a form with `code` and `secret`. Every refusal looks the same (400
 * `invalid_grant`), so a caller learns nothing about which part was wrong.
 */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX, type GatewayContext } from '../context.js';
import { GatewayError } from '../http-errors.js';
import { redeemHandoffCode } from '../handoff.js';

const VALUE = /^[A-Za-z0-9_-]{20,200}$/;

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && VALUE.test(value) ? value : undefined;
}

export function handoffRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.post(`${API_PREFIX}/handoff`, async (request, reply) => {
    const code = field(request.body, 'code');
    const secret = field(request.body, 'secret');
    if (code === undefined || secret === undefined)
      throw new GatewayError(400, 'invalid_request', 'code and secret are required');
    let token;
    try {
      token = await redeemHandoffCode(ctx.store, code, secret);
    } catch (error) {
      request.log.error({ reason: (error as Error).name }, 'the gateway store failed');
      throw new GatewayError(503, 'temporarily_unavailable', 'Try again later', {
        'Retry-After': '5',
      });
    }
    if (token === undefined) {
      request.log.info('a hand-off code was refused (unknown, used, expired or wrong secret)');
      throw new GatewayError(
        400,
        'invalid_grant',
        'The code is unknown, expired, already used, or was not started by this page',
      );
    }
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(token);
  });
}
