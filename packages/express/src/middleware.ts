/**
 * The `auth()` middleware: maps an Express request to core's `TokenRequest`, verifies,
 * and attaches the caller as `req.auth`. Failures go to `next(err)`, so Express's own
 * error path answers (status and `WWW-Authenticate` come from the error) and a user's
 * error handler can take over. Written with callbacks, not `async`, because Express 4
 * does not catch rejected promises.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
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

declare global {
  // Express types its request through this global namespace; augmenting it is the
  // documented way to add a property every handler sees.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller; `null` when auth is optional and no token was sent. */
      auth?: AuthContext | null;
    }
  }
}

/** The middleware `auth()` returns; `verifier` is exposed so an app can `close()` it. */
export type AuthMiddleware = RequestHandler & { readonly verifier: Verifier };

/**
 * The challenge parameters (realm, `resource_metadata`) of the verifier that handled each
 * request, so a guard's 401 or 403 carries the same challenge as the middleware's. Kept in
 * a WeakMap, off the request: one more property on Express's large request object made
 * every cached request 4–6 % dearer over HTTP (A/B in both orders, the same rounds) than
 * this map entry.
 */
const challenges = new WeakMap<Request, ChallengeOptions>();

/** The challenge parameters of the verifier `auth()` used for this request (undefined before `auth()`). */
export function challengeOf(req: Request): ChallengeOptions | undefined {
  return challenges.get(req);
}

/**
 * Verifies the request's bearer token and sets `req.auth`. Takes verifier options (the
 * verifier is built once, here; a bad option throws now) or an existing verifier.
 */
export function auth(options: AuthOptions | Verifier): AuthMiddleware {
  const { verifier, required } = resolveAuthOptions(options);
  const challenge = challengeOptions(verifier);
  const middleware = (req: Request, _res: Response, next: NextFunction): void => {
    challenges.set(req, challenge);
    const request = nodeTokenRequest(
      req,
      req.url.includes('access_token') ? req.query : undefined,
      req.body,
    );
    let caller: ReturnType<typeof answerRequest>;
    try {
      caller = answerRequest(verifier, request, required);
    } catch (error) {
      next(error);
      return;
    }
    // A refusal known at once comes back as a value (see answerRequest), not a throw.
    if (caller instanceof ZitauthError) {
      next(caller);
      return;
    }
    // A cached token is answered at once: no promise between the request and the route.
    if (!(caller instanceof Promise)) {
      req.auth = caller;
      next();
      return;
    }
    caller.then(
      (verified) => {
        req.auth = verified;
        next();
      },
      (error: unknown) => next(error),
    );
  };
  return Object.assign(middleware, { verifier });
}

/**
 * The verified caller of `req`; throws `UnauthorizedError` (401) when `auth()` found none.
 * Where no `auth()` ran for the request it throws a 500 `MisuseError` naming the fix: a
 * 401 "no token" would blame a caller whose token is valid.
 */
export function getAuth(req: Request): AuthContext {
  const caller = req.auth;
  if (caller != null) return caller;
  if (caller === undefined) throw guardWithoutAuth('getAuth()');
  throw new UnauthorizedError(challenges.get(req) ?? {});
}
