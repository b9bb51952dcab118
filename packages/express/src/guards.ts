/**
 * Route guards: core's guards bound to Express requests. The decision (401 before 403,
 * role in the right organisation, scopes named in the challenge) is core's; this file
 * only says how to read an Express request and hands a failure to `next(err)`.
 */
import type { Request, RequestHandler } from 'express';
import {
  checkGuard,
  issuerGuard,
  roleGuard,
  scopeGuard,
  type AuthContext,
  type Guard,
  type OrgSource as CoreOrgSource,
  type RequestAccess,
  type RoleGuardOptions,
  type ScopeGuardOptions,
} from '@zitauth/core';
import { challengeOf } from './middleware.js';

/** Where the organisation comes from: `{ param }`, `{ header }` or `(req) => orgId`. */
export type OrgSource = CoreOrgSource<Request>;
/** Options of {@link requireRoles}. */
export type RequireRolesOptions = RoleGuardOptions<Request>;
/** Options of {@link requireScopes}. */
export type RequireScopesOptions = ScopeGuardOptions;

const access: RequestAccess<Request> = {
  param: (req, name) => (req.params as Record<string, unknown>)[name],
  message: (req) => req,
};

/** Runs a (possibly async) guard, then continues or hands its error to `next`. */
function handler(guard: Guard<Request>): RequestHandler {
  return (req, _res, next) => {
    Promise.resolve()
      .then(() => guard(req.auth, req, challengeOf(req)))
      .then(() => next(), next);
  };
}

/** Allows callers holding `roles` (403 otherwise); with `org`, in the request's organisation. */
export function requireRoles(
  roles: string | readonly string[],
  options: RequireRolesOptions = {},
): RequestHandler {
  return handler(roleGuard(roles, options, access));
}

/** Allows callers whose token grants `scopes` (403 naming them otherwise). */
export function requireScopes(
  scopes: string | readonly string[],
  options: RequireScopesOptions = {},
): RequestHandler {
  return handler(scopeGuard(scopes, options));
}

/** Allows callers verified by one of `issuers` (exact issuer URLs; 403 otherwise). */
export function requireIssuer(issuers: string | readonly string[]): RequestHandler {
  return handler(issuerGuard(issuers));
}

/** Allows callers for whom `predicate` (sync or async) returns exactly `true` (403 otherwise). */
export function requireCheck(
  predicate: (auth: AuthContext) => boolean | Promise<boolean>,
): RequestHandler {
  return handler(checkGuard(predicate));
}
