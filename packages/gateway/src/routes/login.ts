/**
 * Browser login, as the seed's `/login` and `/callback`, plus `/logout`:
 *
 *   GET /login[?return_to=URL]   302 to the IdP (code + PKCE S256, state, nonce)
 *   GET /callback?code&state      302 to the app with `#access_token=…` in the fragment
 *   GET /logout[?return_to=URL]   302 to the IdP's end-session endpoint
 *
 * Differences from the seed, each closing a hole: the PKCE verifier and nonce stay on the
 * gateway; `state` is single-use, expires and is bound to the browser by a cookie; the
 * ID token is verified (signature, iss, aud, nonce); and the token is only ever sent to
 * an allowed origin. The fragment keeps the token out of server logs and `Referer`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { API_PREFIX } from '../context.js';
import {
  BINDING_COOKIE,
  bindingCookie,
  bindingMatches,
  clearBindingCookie,
  createBinding,
  readCookie,
} from '../cookies.js';
import { badRequest, idpUnavailable, type GatewayError } from '../http-errors.js';
import { createLoginFlow, LoginFlowError, type LoginFlow } from '../login-flow.js';
import { createLoginStateStore, type LoginStateStore } from '../login-state.js';
import { resolveReturnTo } from '../origins.js';
import { rateLimitHook } from '../rate-limit-hook.js';
import { rawQuery, singleParam } from '../request-values.js';

const LOGIN_SCOPES = ['openid', 'profile', 'email'];

function loginScope(ctx: GatewayContext): string {
  const { projectId, login } = ctx.config;
  return [
    ...LOGIN_SCOPES,
    `urn:zitadel:iam:org:project:id:${projectId}:aud`,
    'urn:zitadel:iam:org:projects:roles',
    // ZITADEL names the user's organisation (auth.orgId, X-Auth-Org-Id) only when asked.
    'urn:zitadel:iam:user:resourceowner',
    ...(login?.extraScopes ?? []),
  ].join(' ');
}

function returnTarget(request: FastifyRequest, ctx: GatewayContext): string {
  const requested = singleParam(rawQuery(request), 'return_to');
  const target =
    requested === null ? undefined : resolveReturnTo(requested, ctx.config.allowedOrigins);
  if (target === undefined) throw badRequest('return_to is not a page of an allowed origin');
  return target;
}

function unavailable(request: FastifyRequest, error: unknown): GatewayError {
  const reason = error instanceof LoginFlowError ? error.reason : 'unknown';
  request.log.warn({ reason }, 'the IdP could not be reached for a login');
  return idpUnavailable();
}

/** Everything the three handlers share. */
interface LoginDeps {
  ctx: GatewayContext;
  flow: LoginFlow | undefined;
  states: LoginStateStore;
  cookiePath: string;
}

function requireFlow(deps: LoginDeps): LoginFlow {
  if (deps.flow === undefined) throw badRequest('Login is not configured on this gateway');
  return deps.flow;
}

async function startLogin(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  const returnTo = returnTarget(request, deps.ctx);
  const secrets = flow.secrets();
  const binding = createBinding();
  const state = deps.states.begin({ ...secrets, bindingHash: binding.hash, returnTo });
  let url: URL;
  try {
    url = await flow.authorizationUrl(state, secrets);
  } catch (error) {
    deps.states.take(state);
    throw unavailable(request, error);
  }
  const { secureCookies, login } = deps.ctx.config;
  const ttl = login?.stateTtlMs ?? 600_000;
  return reply
    .header('cache-control', 'no-store')
    .header('set-cookie', bindingCookie(binding.value, deps.cookiePath, ttl, secureCookies))
    .redirect(url.href, 302);
}

async function finishLogin(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  const query = rawQuery(request);
  const state = singleParam(query, 'state');
  if (typeof state !== 'string' || state === '') throw badRequest('state is missing');
  const login = deps.states.take(state);
  if (login === undefined) throw badRequest('The login state is unknown, expired or already used');
  reply.header('set-cookie', clearBindingCookie(deps.cookiePath, deps.ctx.config.secureCookies));
  if (!bindingMatches(readCookie(request.headers.cookie, BINDING_COOKIE), login.bindingHash)) {
    throw badRequest('The login was not started in this browser');
  }
  let result;
  try {
    result = await flow.complete(query, state, login);
  } catch (error) {
    if (error instanceof LoginFlowError && error.kind === 'rejected') {
      request.log.info({ reason: error.reason }, 'login refused');
      throw badRequest('The login could not be completed');
    }
    throw unavailable(request, error);
  }
  const fragment = new URLSearchParams({ access_token: result.accessToken, token_type: 'Bearer' });
  if (result.expiresIn !== undefined) fragment.set('expires_in', String(result.expiresIn));
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(`${login.returnTo}#${fragment.toString()}`, 302);
}

async function logout(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  const returnTo = returnTarget(request, deps.ctx);
  let url: URL | undefined;
  try {
    url = await flow.endSessionUrl(returnTo);
  } catch (error) {
    throw unavailable(request, error);
  }
  return reply.header('cache-control', 'no-store').redirect(url?.href ?? returnTo, 302);
}

/** Registers `/login`, `/callback` and `/logout` (under the API prefix). */
export function loginRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { config } = ctx;
  const cookiePath = `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}${API_PREFIX}/callback`;
  const flow =
    config.login === undefined
      ? undefined
      : createLoginFlow({
          discovery: ctx.discovery,
          clientId: config.login.clientId,
          clientSecret: config.login.clientSecret,
          redirectUri: `${config.publicUrl}${API_PREFIX}/callback`,
          scope: loginScope(ctx),
          timeoutMs: config.timeoutMs,
          fetch: config.fetch,
        });
  const states = createLoginStateStore({
    ...(config.login?.stateTtlMs === undefined ? {} : { ttlMs: config.login.stateTtlMs }),
    ...(config.login?.maxPendingLogins === undefined
      ? {}
      : { maxEntries: config.login.maxPendingLogins }),
  });
  const deps: LoginDeps = { ctx, flow, states, cookiePath };
  const limit = rateLimitHook({
    store: ctx.store,
    name: 'login',
    max: config.rateLimit.login,
    windowMs: config.rateLimit.windowMs,
  });
  app.get(`${API_PREFIX}/login`, { onRequest: limit }, (request, reply) =>
    startLogin(deps, request, reply),
  );
  app.get(`${API_PREFIX}/callback`, { onRequest: limit }, (request, reply) =>
    finishLogin(deps, request, reply),
  );
  app.get(`${API_PREFIX}/logout`, { onRequest: limit }, (request, reply) =>
    logout(deps, request, reply),
  );
}
