/**
 * Route guards, usable per route with @koa/router: core's guards bound to Koa contexts.
 * The decision (401 before 403, role in the right organisation, scopes named in the
 * challenge) is core's; this file only says how to read a Koa context.
 */
import type { Context, Middleware } from 'koa';
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
import { challengeOf, type AuthState } from './middleware.js';
import { buildOrReport, createFaultReporter } from './operator-log.js';

/**
 * Where the organisation comes from: `{ param }` (`ctx.params`, set by @koa/router),
 * `{ header }` or `(ctx) => orgId`.
 */
export type OrgSource = CoreOrgSource<Context>;
/** Options of {@link requireRoles}. */
export type RequireRolesOptions = RoleGuardOptions<Context>;
/** Options of {@link requireScopes}. */
export type RequireScopesOptions = ScopeGuardOptions;

const access: RequestAccess<Context> = {
  param: (ctx, name) => (ctx['params'] as Record<string, unknown> | undefined)?.[name],
  message: (ctx) => ctx.req,
};

/**
 * Runs a (possibly async) guard, then the next middleware; a failure is thrown. A guard
 * placed before `auth()` (`ctx.state.auth` unset) fails with a 500 whose operator fault is
 * emitted on `app.on('error')` once per minute, like `auth()`'s.
 */
function middleware(guard: Guard<Context>): Middleware<AuthState> {
  const reportFault = createFaultReporter();
  return async (ctx, next) => {
    try {
      await guard(ctx.state.auth, ctx, challengeOf(ctx));
    } catch (error) {
      reportFault(ctx, error);
      throw error;
    }
    await next();
  };
}

/** Allows callers holding `roles` (403 otherwise); with `org`, in the request's organisation. */
export function requireRoles(
  roles: string | readonly string[],
  options: RequireRolesOptions = {},
): Middleware<AuthState> {
  return middleware(buildOrReport(roles, () => roleGuard(roles, options, access)));
}

/** Allows callers whose token grants `scopes` (403 naming them otherwise). */
export function requireScopes(
  scopes: string | readonly string[],
  options: RequireScopesOptions = {},
): Middleware<AuthState> {
  return middleware(buildOrReport(scopes, () => scopeGuard(scopes, options)));
}

/** Allows callers verified by one of `issuers` (exact issuer URLs; 403 otherwise). */
export function requireIssuer(issuers: string | readonly string[]): Middleware<AuthState> {
  return middleware(buildOrReport(issuers, () => issuerGuard(issuers)));
}

/** Allows callers for whom `predicate` (sync or async) returns exactly `true` (403 otherwise). */
export function requireCheck(
  predicate: (auth: AuthContext) => boolean | Promise<boolean>,
): Middleware<AuthState> {
  return middleware(buildOrReport(predicate, () => checkGuard(predicate)));
}
