/**
 * Everything the session routes, the proxy and the callback share in the
 * backend-for-frontend mode, built once per gateway: the session store over the
 * gateway's store, the token endpoint client for refresh and revocation, how the cookie
 * is written, and which origins may send state-changing requests.
 */
import type { GatewayContext } from './context.js';
import { checkCsrf } from './csrf.js';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { readSessionId, type SessionCookieConfig } from './session-cookie.js';
import { createSessions, type SessionBackend, type Sessions } from './sessions.js';
import { createTokenEndpoint, type TokenEndpoint } from './token-endpoint.js';

export interface BrowserSessions {
  readonly sessions: Sessions;
  readonly tokens: TokenEndpoint;
  readonly cookie: SessionCookieConfig;
  /** Lifetime of a session (and of its cookie), in milliseconds. */
  readonly lifetimeMs: number;
  /** The session id of a request, if it carries a well-formed one. */
  sessionId(request: FastifyRequest): string | undefined;
  /** Throws 403 for a state-changing request without the CSRF header or from a foreign origin. */
  checkCsrf(request: FastifyRequest): void;
}

/** Builds the session machinery; `undefined` when login is not configured. */
export function createBrowserSessions(
  ctx: GatewayContext,
  backend: SessionBackend,
  log: FastifyBaseLogger,
): BrowserSessions | undefined {
  const { config } = ctx;
  if (config.login === undefined) return undefined;
  const tokens = createTokenEndpoint({
    discovery: ctx.discovery,
    clientId: config.login.clientId,
    clientSecret: config.login.clientSecret,
    timeoutMs: config.timeoutMs,
    fetch: config.fetch,
  });
  const { session } = config;
  const sessions = createSessions({
    backend,
    tokens,
    lifetimeMs: session.lifetimeMs,
    refreshMarginMs: session.refreshMarginMs,
    warn: (details, message) => log.warn(details, message),
  });
  const cookie: SessionCookieConfig = { secure: config.secureCookies, sameSite: session.sameSite };
  const trusted = [new URL(config.publicUrl).origin, ...config.allowedOrigins];
  return {
    sessions,
    tokens,
    cookie,
    lifetimeMs: session.lifetimeMs,
    sessionId: (request) => readSessionId(request.headers.cookie, cookie),
    checkCsrf: (request) => checkCsrf(request, trusted),
  };
}
