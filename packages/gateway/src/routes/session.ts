/**
 * The session routes of the backend-for-frontend mode:
 *
 *   GET  /api/v1/session   who is signed in: subject, organisation, roles with the
 *                          organisation that granted each, and expiry; 401 without one
 *   POST /api/v1/logout    ends the session: deletes it, revokes its tokens at the IdP,
 *                          clears the cookie and answers the IdP's end-session URL
 *
 * Neither ever returns a token. Logout needs the CSRF header (a forged logout would be a
 * nuisance, and the rule is simpler without exceptions).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isZitauthError, type AuthContext } from '@zitauth/core';
import type { BrowserSessions } from '../browser-sessions.js';
import { API_PREFIX, type GatewayContext } from '../context.js';
import { GatewayError, idpUnavailable } from '../http-errors.js';
import { LoginFlowError } from '../login-flow.js';
import { resolveReturnTo } from '../origins.js';
import { rawQuery, singleParam } from '../request-values.js';
import { clearSessionCookie } from '../session-cookie.js';
import type { SessionData } from '../sessions.js';

/** 401 for a request without a (live) session. */
export function notSignedIn(): GatewayError {
  return new GatewayError(401, 'login_required', 'Not signed in');
}

/** One role as the session answer lists it: with the organisation that granted it. */
interface RoleGrant {
  role: string;
  orgId: string;
  orgDomain: string;
}

function roleGrants(auth: AuthContext): RoleGrant[] {
  return Object.entries(auth.roles).flatMap(([role, orgs]) =>
    Object.entries(orgs).map(([orgId, orgDomain]) => ({ role, orgId, orgDomain })),
  );
}

/** The live session of a request, refreshed if due; throws 401 or 503. */
export async function requireSession(
  browser: BrowserSessions,
  request: FastifyRequest,
): Promise<{ id: string; data: SessionData }> {
  const id = browser.sessionId(request);
  if (id === undefined) throw notSignedIn();
  let data: SessionData | undefined;
  try {
    data = await browser.sessions.fresh(id);
  } catch (error) {
    const reason = error instanceof LoginFlowError ? error.reason : 'store';
    request.log.warn({ reason }, 'a session could not be refreshed');
    throw idpUnavailable();
  }
  if (data === undefined) throw notSignedIn();
  return { id, data };
}

async function describeSession(
  ctx: GatewayContext,
  browser: BrowserSessions,
  request: FastifyRequest,
) {
  const { id, data } = await requireSession(browser, request);
  let auth: AuthContext;
  try {
    auth = await ctx.verifier.verify(data.accessToken);
  } catch (error) {
    if (isZitauthError(error) && error.status === 503) throw error;
    // The IdP no longer accepts the token (revoked, user removed): the session is over.
    await browser.sessions.end(id);
    throw notSignedIn();
  }
  return {
    subject: auth.subject,
    ...data.profile,
    orgId: auth.orgId ?? null,
    roles: roleGrants(auth),
    accessTokenExpiresAt: new Date(data.accessExpiresAt).toISOString(),
    expiresAt: new Date(data.expiresAt).toISOString(),
  };
}

/** Revokes a finished session's tokens; a failure is logged, the logout goes on. */
async function revokeAll(
  browser: BrowserSessions,
  request: FastifyRequest,
  data: SessionData,
): Promise<void> {
  const revocations: Promise<void>[] = [browser.tokens.revoke(data.accessToken, 'access_token')];
  if (data.refreshToken !== undefined)
    revocations.push(browser.tokens.revoke(data.refreshToken, 'refresh_token'));
  for (const result of await Promise.allSettled(revocations)) {
    if (result.status === 'rejected') {
      const reason = result.reason instanceof LoginFlowError ? result.reason.reason : 'unknown';
      request.log.warn({ reason }, 'a token could not be revoked at logout');
    }
  }
}

async function endSessionUrl(ctx: GatewayContext, request: FastifyRequest): Promise<string> {
  const requested = singleParam(rawQuery(request), 'return_to');
  const returnTo = resolveReturnTo(requested ?? undefined, ctx.config.returnRules);
  if (returnTo === undefined)
    throw new GatewayError(400, 'invalid_request', 'return_to is not allowed');
  const endpoint = (await ctx.discovery.metadata()).end_session_endpoint;
  if (typeof endpoint !== 'string' || endpoint === '') return returnTo;
  const url = new URL(endpoint);
  url.searchParams.set('client_id', ctx.config.login?.clientId ?? '');
  // No id_token_hint: this URL goes to page script, which never gets a token of any kind.
  url.searchParams.set('post_logout_redirect_uri', returnTo);
  return url.href;
}

async function logout(
  ctx: GatewayContext,
  browser: BrowserSessions,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  browser.checkCsrf(request);
  const id = browser.sessionId(request);
  const data = id === undefined ? undefined : await browser.sessions.end(id);
  if (data !== undefined) await revokeAll(browser, request, data);
  let url: string;
  try {
    url = await endSessionUrl(ctx, request);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    url = resolveReturnTo(undefined, ctx.config.returnRules) ?? '/';
  }
  return reply
    .header('cache-control', 'no-store')
    .header('set-cookie', clearSessionCookie(browser.cookie))
    .send({ signedOut: true, endSessionUrl: url });
}

/** Registers `GET /session` and `POST /logout` (under the API prefix). */
export function sessionRoutes(
  app: FastifyInstance,
  ctx: GatewayContext,
  browser: BrowserSessions,
): void {
  app.get(`${API_PREFIX}/session`, async (request, reply) => {
    const body = await describeSession(ctx, browser, request);
    return reply.header('cache-control', 'no-store').send(body);
  });
  app.post(`${API_PREFIX}/logout`, (request, reply) => logout(ctx, browser, request, reply));
}
