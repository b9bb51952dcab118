/**
 * The `auth()` middleware: maps a Koa context to core's `TokenRequest`, verifies, and
 * sets `ctx.state.auth`. Failures are thrown: a zitauth error carries `status`,
 * `expose` and `headers`, which Koa's own `ctx.onerror` turns into the response, and an
 * `errorHandler()` mounted first (or the user's own) can render them instead.
 */
import type { Context, Middleware } from 'koa';
import {
  UnauthorizedError,
  type AuthContext,
  type TokenRequest,
  type Verifier,
} from '@zitauth/core';
import { resolveAuth, type AuthOptions } from './options.js';

/** What `auth()` adds to `ctx.state`: the caller, or `null` for optional auth without a token. */
export interface AuthState {
  auth: AuthContext | null;
}

/** The middleware `auth()` returns; `verifier` is exposed so an app can `close()` it. */
export type AuthMiddleware = Middleware<AuthState> & { readonly verifier: Verifier };

/**
 * Realms configured per request, so a guard's 401 carries the same challenge as the
 * middleware's. A WeakMap keeps it off the context and lets it be collected.
 */
const realms = new WeakMap<object, string>();

/** The realm `auth()` used for this request, if it was configured. */
export function realmOf(ctx: object): string | undefined {
  return realms.get(ctx);
}

function strings(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

/**
 * Every `Authorization` header (Node's `req.headers` keeps only the first, which would
 * hide a second credential), plus `access_token` from query and body. Those two are only
 * read when present; core ignores them unless `tokenTransport` enables them.
 */
function tokenRequest(ctx: Context): TokenRequest {
  const request: TokenRequest = { authorization: ctx.req.headersDistinct['authorization'] };
  if (ctx.querystring.includes('access_token')) request.query = strings(ctx.query['access_token']);
  const body: unknown = (ctx.request as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null && 'access_token' in body) {
    request.body = strings(body.access_token);
  }
  return request;
}

/**
 * Verifies the request's bearer token and sets `ctx.state.auth`. Takes verifier options
 * (the verifier is built once, here; a bad option throws now) or an existing verifier.
 */
export function auth(options: AuthOptions | Verifier): AuthMiddleware {
  const { verifier, required, realm } = resolveAuth(options);
  const middleware: Middleware<AuthState> = async (ctx, next) => {
    if (realm !== undefined) realms.set(ctx, realm);
    ctx.state.auth = await verifier.authenticate(tokenRequest(ctx), { required });
    await next();
  };
  return Object.assign(middleware, { verifier });
}

/** The verified caller of `ctx`; throws `UnauthorizedError` (401) when there is none. */
export function getAuth(ctx: { state: { auth?: AuthContext | null } }): AuthContext {
  const caller = ctx.state.auth;
  if (caller == null) {
    const realm = realms.get(ctx);
    throw new UnauthorizedError(realm === undefined ? {} : { realm });
  }
  return caller;
}
