/**
 * Browser login, as the seed's `/login` and `/callback`, plus `/logout`:
 *
 *   GET /login[?return_to=URL]   302 to the IdP (code + PKCE S256, state, nonce)
 *   GET /callback?code&state      302 to the app: a session cookie, or (token mode) the
 *                                 access token in the fragment
 *   GET /logout[?return_to=URL]   token mode: 302 to the IdP's end-session endpoint
 *
 * Differences from the seed, each closing a hole: the PKCE verifier and nonce never reach
 * page script (they travel sealed in an HttpOnly cookie, which also binds the login to
 * the browser that started it, and expires); the ID token is verified (signature, iss,
 * aud, nonce); and the browser only ever returns to an allowed page. What happens after
 * a successful code exchange is one step, `completeLogin` (login-completion.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSessions } from '../browser-sessions.js';
import type { GatewayContext } from '../context.js';
import { API_PREFIX } from '../context.js';
import {
  clearLoginCookie,
  deriveKey,
  loginCookie,
  loginCookieName,
  readCookie,
  type CookieScope,
} from '../cookies.js';
import { badRequest, GatewayError, idpUnavailable } from '../http-errors.js';
import { SECRET_HASH } from '../handoff.js';
import { completeLogin } from '../login-completion.js';
import { createLoginFlow, LoginFlowError, type LoginFlow } from '../login-flow.js';
import { createLoginSealer, type LoginSealer, type PendingLogin } from '../login-state.js';
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
    // ZITADEL names the user's organisation (auth.orgId, X-Auth-Home-Org-Id) only when asked.
    'urn:zitadel:iam:user:resourceowner',
    // Sessions outlive the access token: the gateway refreshes it with a refresh token.
    ...(ctx.config.browserMode === 'session' ? ['offline_access'] : []),
    ...(login?.extraScopes ?? []),
  ].join(' ');
}

function returnTarget(request: FastifyRequest, ctx: GatewayContext): string {
  const requested = singleParam(rawQuery(request), 'return_to');
  const target =
    requested === null ? undefined : resolveReturnTo(requested, ctx.config.returnRules);
  if (target === undefined) throw badRequest('return_to is not an allowed return page');
  return target;
}

/** Token mode: the SHA-256 of the page's secret, which the hand-off code will need. */
function handoffTarget(request: FastifyRequest): string {
  const hash = singleParam(rawQuery(request), 'handoff');
  if (typeof hash !== 'string' || !SECRET_HASH.test(hash))
    throw badRequest('handoff (the SHA-256 of the page secret, base64url) is required');
  return hash;
}

function unavailable(request: FastifyRequest, error: unknown): GatewayError {
  const reason = error instanceof LoginFlowError ? error.reason : 'unknown';
  request.log.warn({ reason }, 'the IdP could not be reached for a login');
  return idpUnavailable();
}

/** Everything the handlers share. */
export interface LoginDeps {
  ctx: GatewayContext;
  flow: LoginFlow | undefined;
  sealer: LoginSealer;
  cookies: CookieScope;
  /** Session mode's sessions; undefined in token mode. */
  browser: BrowserSessions | undefined;
}

function requireFlow(deps: LoginDeps): LoginFlow {
  if (deps.flow === undefined) throw badRequest('Login is not configured on this gateway');
  return deps.flow;
}

async function startLogin(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  const returnTo = returnTarget(request, deps.ctx);
  const handoffHash = deps.browser === undefined ? handoffTarget(request) : undefined;
  const state = deps.sealer.newState();
  const login: PendingLogin = { state, returnTo, handoffHash, ...flow.secrets() };
  let url: URL;
  try {
    url = await flow.authorizationUrl(state, login);
  } catch (error) {
    throw unavailable(request, error);
  }
  const sealed = await deps.sealer.seal(login);
  return reply
    .header('cache-control', 'no-store')
    .header('set-cookie', loginCookie(state, sealed, deps.sealer.ttlMs, deps.cookies))
    .redirect(url.href, 302);
}

/** The pending login this browser holds for the callback's `state`. */
async function pendingLogin(deps: LoginDeps, request: FastifyRequest, state: string) {
  const sealed = readCookie(request.headers.cookie, loginCookieName(state, deps.cookies));
  if (sealed === undefined || sealed === '') {
    throw badRequest('The login was not started in this browser, or it expired');
  }
  const login = await deps.sealer.open(sealed, state);
  if (login === undefined) throw badRequest('The login state is invalid or expired');
  return login;
}

async function finishLogin(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  const query = rawQuery(request);
  const state = singleParam(query, 'state');
  if (typeof state !== 'string' || state === '') throw badRequest('state is missing');
  // Whatever happens next, this login is over: its cookie goes.
  reply.header('set-cookie', clearLoginCookie(state, deps.cookies));
  const login = await pendingLogin(deps, request, state);
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
  return completeLogin(deps.browser, deps.ctx.store, request, reply, { result, ...login });
}

async function logout(deps: LoginDeps, request: FastifyRequest, reply: FastifyReply) {
  const flow = requireFlow(deps);
  // A session must end on the gateway too, and a GET cannot be protected against CSRF.
  if (deps.browser !== undefined) {
    throw new GatewayError(
      405,
      'invalid_request',
      'Log out with POST and the X-Zitauth-CSRF header',
      {
        Allow: 'POST',
      },
    );
  }
  const returnTo = returnTarget(request, deps.ctx);
  let url: URL | undefined;
  try {
    url = await flow.endSessionUrl(returnTo);
  } catch (error) {
    throw unavailable(request, error);
  }
  return reply.header('cache-control', 'no-store').redirect(url?.href ?? returnTo, 302);
}

function buildFlow(ctx: GatewayContext): LoginFlow | undefined {
  const { config } = ctx;
  if (config.login === undefined) return undefined;
  return createLoginFlow({
    discovery: ctx.discovery,
    clientId: config.login.clientId,
    clientSecret: config.login.clientSecret,
    redirectUri: `${config.publicUrl}${API_PREFIX}/callback`,
    scope: loginScope(ctx),
    timeoutMs: config.timeoutMs,
    fetch: config.fetch,
  });
}

/** Registers `/login`, `/callback` and `/logout` (under the API prefix). */
export function loginRoutes(
  app: FastifyInstance,
  ctx: GatewayContext,
  browser: BrowserSessions | undefined,
): void {
  const { config } = ctx;
  if (config.login !== undefined && config.cookieKeyIsEphemeral) {
    app.log.warn(
      'no cookie secret is set: logins are sealed with a key of this process only, so they fail across replicas and restarts',
    );
  }
  const sealer = createLoginSealer({
    key: deriveKey(config.cookieKey, 'login-state'),
    ...(config.login?.stateTtlMs === undefined ? {} : { ttlMs: config.login.stateTtlMs }),
  });
  const cookies: CookieScope = {
    secure: config.secureCookies,
    callbackPath: `${new URL(config.publicUrl).pathname.replace(/\/$/, '')}${API_PREFIX}/callback`,
  };
  const deps: LoginDeps = { ctx, flow: buildFlow(ctx), sealer, cookies, browser };
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
