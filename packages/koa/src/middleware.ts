/**
 * The `auth()` middleware: maps a Koa context to core's `TokenRequest`, verifies, and
 * sets `ctx.state.auth`. Failures are thrown: a zitauth error carries `status`,
 * `expose` and `headers`, which Koa's own `ctx.onerror` turns into the response, and an
 * `errorHandler()` mounted first (or the user's own) can render them instead.
 */
import type { Middleware } from 'koa';
import {
  answerRequest,
  challengeOptions,
  guardWithoutAuth,
  nodeTokenRequest,
  resolveAuthOptions,
  UnauthorizedError,
  ZitauthError,
  type AuthContext,
  type AuthOptions,
  type ChallengeOptions,
  type Verifier,
} from '@zitauth/core';
import { buildOrReport, createFaultReporter, reportMisuse } from './operator-log.js';

/** What `auth()` adds to `ctx.state`: the caller, or `null` for optional auth without a token. */
export interface AuthState {
  auth: AuthContext | null;
}

/** The middleware `auth()` returns; `verifier` is exposed so an app can `close()` it. */
export type AuthMiddleware = Middleware<AuthState> & { readonly verifier: Verifier };

/**
 * The challenge parameters (realm, `resource_metadata`) of the verifier that handled each
 * request, so a guard's 401 or 403 carries the same challenge as the middleware's. Kept
 * under a symbol on the request: every request takes the same one-property step, which is
 * cheaper on the hot path than a WeakMap entry (an ephemeron the collector must trace).
 */
const CHALLENGE = Symbol('zitauth.challenge');
type WithChallenge = { [CHALLENGE]?: ChallengeOptions };

/** The challenge parameters of the verifier `auth()` used for this request (undefined before `auth()`). */
export function challengeOf(ctx: object): ChallengeOptions | undefined {
  return (ctx as WithChallenge)[CHALLENGE];
}

/**
 * Verifies the request's bearer token and sets `ctx.state.auth`. Takes verifier options
 * (the verifier is built once, here; a bad option throws now) or an existing verifier.
 * An operator problem behind a failure is emitted on `app.on('error')` once per cause
 * per minute, so Koa's default listener prints it.
 */
export function auth(options: AuthOptions | Verifier): AuthMiddleware {
  const { verifier, required } = buildOrReport(options, () => resolveAuthOptions(options));
  const reportFault = createFaultReporter();
  const challenge = challengeOptions(verifier);
  // Not an async function: a refusal known at once is handed on as a rejected promise,
  // with no throw on the way (see answerRequest), and a cached caller goes straight on.
  const middleware: Middleware<AuthState> = (ctx, next) => {
    (ctx as WithChallenge)[CHALLENGE] = challenge;
    const query = ctx.querystring.includes('access_token') ? ctx.query : undefined;
    const request = nodeTokenRequest(ctx.req, query, (ctx.request as { body?: unknown }).body);
    request.path = ctx.originalUrl; // mounting (koa-mount) rewrites ctx.req.url
    let caller: ReturnType<typeof answerRequest>;
    try {
      caller = answerRequest(verifier, request, required);
    } catch (error) {
      reportFault(ctx, error);
      return Promise.reject(error);
    }
    if (caller instanceof ZitauthError) {
      reportFault(ctx, caller);
      return Promise.reject(caller);
    }
    if (!(caller instanceof Promise)) {
      ctx.state.auth = caller;
      return next();
    }
    return caller.then(
      (verified) => {
        ctx.state.auth = verified;
        return next();
      },
      (error: unknown) => {
        reportFault(ctx, error);
        throw error;
      },
    );
  };
  return Object.assign(middleware, { verifier });
}

/**
 * The verified caller of `ctx`; throws `UnauthorizedError` (401) when `auth()` found none.
 * Where no `auth()` ran for the request it throws a 500 `MisuseError` and emits its fault
 * naming the fix on `app.on('error')`: a 401 "no token" would blame a valid token.
 */
export function getAuth(ctx: { state: { auth?: AuthContext | null } }): AuthContext {
  const caller = ctx.state.auth;
  if (caller != null) return caller;
  if (caller === undefined) throw reportMisuse(ctx, guardWithoutAuth('getAuth()'));
  throw new UnauthorizedError((ctx as WithChallenge)[CHALLENGE] ?? {});
}
