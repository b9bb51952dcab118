/**
 * The `auth()` middleware: maps an Express request to core's `TokenRequest`, verifies,
 * and attaches the caller as `req.auth`. Failures go to `next(err)`, so Express's own
 * error path answers (status and `WWW-Authenticate` come from the error) and a user's
 * error handler can take over. Written with callbacks, not `async`, because Express 4
 * does not catch rejected promises.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  UnauthorizedError,
  type AuthContext,
  type TokenRequest,
  type Verifier,
} from '@zitauth/core';
import { resolveAuth, type AuthOptions } from './options.js';

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
 * Realms configured per request, so a guard's 401 carries the same challenge as the
 * middleware's. A WeakMap keeps it off the request object and lets it be collected.
 */
const realms = new WeakMap<Request, string>();

/** The realm `auth()` used for this request, if it was configured. */
export function realmOf(req: Request): string | undefined {
  return realms.get(req);
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
function tokenRequest(req: Request): TokenRequest {
  const request: TokenRequest = { authorization: req.headersDistinct['authorization'] };
  if (req.url.includes('access_token')) {
    request.query = strings((req.query as Record<string, unknown>)['access_token']);
  }
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && 'access_token' in body) {
    request.body = strings(body.access_token);
  }
  return request;
}

/**
 * Verifies the request's bearer token and sets `req.auth`. Takes verifier options (the
 * verifier is built once, here; a bad option throws now) or an existing verifier.
 */
export function auth(options: AuthOptions | Verifier): AuthMiddleware {
  const { verifier, required, realm } = resolveAuth(options);
  const middleware = (req: Request, _res: Response, next: NextFunction): void => {
    if (realm !== undefined) realms.set(req, realm);
    verifier.authenticate(tokenRequest(req), { required }).then(
      (caller) => {
        req.auth = caller;
        next();
      },
      (error: unknown) => next(error),
    );
  };
  return Object.assign(middleware, { verifier });
}

/** The verified caller of `req`; throws `UnauthorizedError` (401) when there is none. */
export function getAuth(req: Request): AuthContext {
  const caller = req.auth;
  if (caller == null) {
    const realm = realms.get(req);
    throw new UnauthorizedError(realm === undefined ? {} : { realm });
  }
  return caller;
}
