/**
 * `GET /userinfo`: the seed's proxy to the IdP's userinfo endpoint. The token is taken
 * from `Authorization` only (core's extraction rules: one credential, size cap) and sent
 * on through core's `fetchUserinfo` (timeout, no redirects, never echoed in an error).
 *
 *   200 { userinfo }   400 no or malformed header   401 token refused by the IdP
 *   403 token lacks the `openid` scope   503 IdP unreachable
 */
import type { FastifyInstance } from 'fastify';
import { bearerChallenge, extractToken } from '@zitauth/core';
import { fetchUserinfo } from '@zitauth/core/token-client';
import { API_PREFIX, REALM, type GatewayContext } from '../context.js';
import { GatewayError } from '../http-errors.js';
import { headerValues } from '../request-values.js';

const MAX_TOKEN_BYTES = 8192;

/** Registers `GET /userinfo`. */
export function userinfoRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { config } = ctx;
  app.get(`${API_PREFIX}/userinfo`, async (request, reply) => {
    const token = extractToken(
      { authorization: headerValues(request.raw, 'authorization') },
      { transport: {}, maxTokenBytes: MAX_TOKEN_BYTES, errors: { realm: REALM } },
    );
    if (token === undefined) {
      throw new GatewayError(400, 'invalid_request', 'No access token was sent', {
        'WWW-Authenticate': bearerChallenge({ realm: REALM }),
      });
    }
    const userinfo = await fetchUserinfo(token, {
      issuer: config.issuer,
      userinfoEndpoint: await ctx.discovery.endpoint('userinfo_endpoint'),
      timeoutMs: config.timeoutMs,
      fetch: config.fetch,
    });
    return reply.header('cache-control', 'no-store').send({ userinfo });
  });
}
