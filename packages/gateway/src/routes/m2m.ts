/**
 * `POST /m2m/token`: a service gets an access token of the gateway's service user (JWT
 * bearer grant, RFC 7523, through core's token client, which caches it until shortly
 * before it expires). The seed's route was open to anyone who could reach it; here the
 * caller authenticates with a client id and secret (HTTP Basic) from the configured
 * list, and the route is rate limited per address against secret guessing. Guessing from
 * many addresses meets a second limit: after `m2m.maxFailures` wrong secrets a client is
 * locked out for `m2m.lockoutMs` (counted in the store, so fleet-wide). Like the rate
 * limit, the lockout fails open when the store is down: the secret check still applies.
 *
 *   200 { access_token, token_type, expires_in }   401 unknown client   429 too many calls
 *   or locked out
 *   501 not configured   502 the IdP refused the gateway's key   503 the IdP is down
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isZitauthError, UpstreamError } from '@zitauth/core';
import { createTokenClient, type TokenClient } from '@zitauth/core/token-client';
import { API_PREFIX, REALM, type GatewayContext } from '../context.js';
import { GatewayError, idpUnavailable } from '../http-errors.js';
import { createM2mAuthenticator, SECRET_RULE, type M2mAuthResult } from '../m2m-clients.js';
import { GatewayConfigError } from '../options.js';
import { rateLimitHook } from '../rate-limit-hook.js';
import { singleHeader } from '../request-values.js';

function buildClient(ctx: GatewayContext): TokenClient | undefined {
  const { config } = ctx;
  if (config.m2m === undefined) return undefined;
  try {
    return createTokenClient({
      issuer: config.issuer,
      keyFile: config.m2m.keyFile,
      projectIds: [config.projectId],
      timeoutMs: config.timeoutMs,
      fetch: config.fetch,
    });
  } catch (error) {
    throw new GatewayConfigError('m2m.keyFile', (error as Error).message.replace(/^zitauth: /, ''));
  }
}

const unauthenticated = (): GatewayError =>
  new GatewayError(401, 'invalid_client', 'Client authentication failed', {
    'WWW-Authenticate': `Basic realm="${REALM}", charset="UTF-8"`,
  });

function tokenFailure(request: FastifyRequest, error: unknown): GatewayError {
  if (error instanceof UpstreamError) return idpUnavailable();
  if (isZitauthError(error) && error.code === 'ERR_ZITAUTH_TOKEN_REQUEST') {
    // Core's message is filtered (no assertion, no token) and hints at the usual cause.
    request.log.error({ err: error }, 'the IdP refused the service user token request');
    return new GatewayError(
      502,
      'upstream_refused',
      'The identity provider refused the token request of the gateway',
    );
  }
  throw error;
}

/** Failed secrets per client, kept in the gateway store. */
interface Lockout {
  /** Whether the client is locked out; false when the store cannot tell (fails open). */
  isLocked(request: FastifyRequest, id: string): Promise<boolean>;
  /** Counts one wrong secret. */
  fail(request: FastifyRequest, id: string): Promise<void>;
  readonly retryAfterSeconds: number;
}

function createLockout(ctx: GatewayContext): Lockout {
  const maxFailures = ctx.config.m2m?.maxFailures ?? 10;
  const lockoutMs = ctx.config.m2m?.lockoutMs ?? 900_000;
  const key = (id: string) => `lockout:m2m:${id}`;
  const storeDown = (request: FastifyRequest, error: unknown) =>
    request.log.error({ err: error }, 'M2M lockout not enforced: the gateway store is unavailable');
  return {
    retryAfterSeconds: Math.ceil(lockoutMs / 1000),
    async isLocked(request, id) {
      try {
        return ((await ctx.store.get<number>(key(id))) ?? 0) >= maxFailures;
      } catch (error) {
        storeDown(request, error);
        return false;
      }
    },
    async fail(request, id) {
      try {
        const failures = await ctx.store.increment(key(id), lockoutMs);
        if (failures === maxFailures) {
          request.log.warn({ client: id, failures }, 'M2M client locked out after wrong secrets');
        }
      } catch (error) {
        storeDown(request, error);
      }
    },
  };
}

/** The configured client that sent a right secret; throws 401 or 429 otherwise. */
async function authenticated(
  request: FastifyRequest,
  authenticate: (header: string | undefined) => M2mAuthResult,
  lockout: Lockout,
): Promise<string> {
  const result = authenticate(singleHeader(request, 'authorization'));
  if (result.id !== undefined && (await lockout.isLocked(request, result.id))) {
    throw new GatewayError(429, 'locked_out', 'Too many failed attempts; try again later', {
      'Retry-After': String(lockout.retryAfterSeconds),
    });
  }
  if (result.kind === 'refused') {
    if (result.id !== undefined) await lockout.fail(request, result.id);
    throw unauthenticated();
  }
  if (result.weak) {
    request.log.error(
      { client: result.id },
      `M2M client refused: its secret is too weak; give it one with ${SECRET_RULE}`,
    );
    throw unauthenticated();
  }
  return result.id;
}

/** The route handler: configured? authenticated? then the cached service user token. */
function issueToken(
  client: TokenClient | undefined,
  authenticate: (header: string | undefined) => M2mAuthResult,
  lockout: Lockout,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (client === undefined) {
      throw new GatewayError(
        501,
        'not_configured',
        'M2M tokens are not configured on this gateway',
      );
    }
    const caller = await authenticated(request, authenticate, lockout);
    let token;
    try {
      token = await client.getTokenResponse();
    } catch (error) {
      throw tokenFailure(request, error);
    }
    request.log.info({ client: caller }, 'M2M token handed out');
    const expiresIn = Math.max(0, Math.floor((token.expiresAt.getTime() - Date.now()) / 1000));
    return reply
      .header('cache-control', 'no-store')
      .send({ access_token: token.accessToken, token_type: 'Bearer', expires_in: expiresIn });
  };
}

/** Registers `POST /m2m/token`. Throws `GatewayConfigError` for a bad key file. */
export function m2mRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const client = buildClient(ctx);
  if (client !== undefined) app.addHook('onClose', async () => client.close());
  const limit = rateLimitHook({
    store: ctx.store,
    name: 'token',
    max: ctx.config.rateLimit.token,
    windowMs: ctx.config.rateLimit.windowMs,
  });
  // OAuth-style callers send a form body (`grant_type=…`); it is accepted and ignored.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => done(null, body),
  );
  const authenticate = createM2mAuthenticator(ctx.config.m2m?.clients ?? []);
  const handler = issueToken(client, authenticate, createLockout(ctx));
  app.post(`${API_PREFIX}/m2m/token`, { onRequest: limit }, handler);
}
