/**
 * Route guards, usable per route with @koa/router: thin wrappers around core's checks.
 * The decision (401 before 403, role in the right organisation, scopes named in the
 * challenge) is core's; this file only finds the organisation in the request.
 */
import type { Context, Middleware } from 'koa';
import {
  requireCheck as coreRequireCheck,
  requireRoles as coreRequireRoles,
  requireScopes as coreRequireScopes,
  ZitauthConfigError,
  type AuthContext,
  type CheckContext,
  type Match,
} from '@zitauth/core';
import { realmOf, type AuthState } from './middleware.js';

/**
 * Where the organisation a role must be granted in comes from: a route parameter
 * (`ctx.params`, set by @koa/router), a request header, or a function. A request that
 * names none is refused (403).
 */
export type OrgSource =
  { param: string } | { header: string } | ((ctx: Context) => string | undefined);

/** Options of {@link requireRoles}. */
export interface RequireRolesOptions {
  /** `'all'`: every role is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
  /** Require the role in the organisation the request names. @default undefined (any organisation) */
  org?: OrgSource;
}

/** Options of {@link requireScopes}. */
export interface RequireScopesOptions {
  /** `'all'`: every scope is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
}

type Check = (auth: AuthContext | null | undefined, context: CheckContext) => unknown;

/**
 * A header counts only when sent exactly once: two values are ambiguous, and picking
 * one could check a role in an organisation other than the one the handler acts on.
 */
function single(values: readonly string[] | undefined): string | undefined {
  return values?.length === 1 ? values[0] : undefined;
}

function orgReader(source: OrgSource): (ctx: Context) => string | undefined {
  if (typeof source === 'function') return source;
  if (typeof source === 'object' && source !== null) {
    if ('param' in source && typeof source.param === 'string') {
      const name = source.param;
      return (ctx) => (ctx['params'] as Record<string, string | undefined> | undefined)?.[name];
    }
    if ('header' in source && typeof source.header === 'string') {
      const name = source.header.toLowerCase();
      return (ctx) => single(ctx.req.headersDistinct[name]);
    }
  }
  throw new ZitauthConfigError('zitauth: org must be { param }, { header } or (ctx) => orgId');
}

/** Runs a (possibly async) check, then the next middleware; a failure is thrown. */
function guard(check: Check, orgOf?: (ctx: Context) => string | undefined): Middleware<AuthState> {
  return async (ctx, next) => {
    const orgId = orgOf?.(ctx) || undefined; // an empty value names no organisation
    await check(ctx.state.auth, { orgId, realm: realmOf(ctx) });
    await next();
  };
}

/** Allows callers holding `roles` (403 otherwise); with `org`, in the request's organisation. */
export function requireRoles(
  roles: string | readonly string[],
  options: RequireRolesOptions = {},
): Middleware<AuthState> {
  const check = coreRequireRoles(roles, {
    ...(options.match === undefined ? {} : { match: options.match }),
    orgRequired: options.org !== undefined,
  });
  return guard(check, options.org === undefined ? undefined : orgReader(options.org));
}

/** Allows callers whose token grants `scopes` (403 naming them otherwise). */
export function requireScopes(
  scopes: string | readonly string[],
  options: RequireScopesOptions = {},
): Middleware<AuthState> {
  return guard(
    coreRequireScopes(scopes, options.match === undefined ? {} : { match: options.match }),
  );
}

/**
 * Allows callers for whom `predicate` returns `true` (403 otherwise). The predicate may
 * be async; it is awaited here and core makes the decision on its result.
 */
export function requireCheck(
  predicate: (auth: AuthContext) => boolean | Promise<boolean>,
): Middleware<AuthState> {
  coreRequireCheck(predicate as (auth: AuthContext) => boolean); // validates now
  return guard(async (auth, context) => {
    const allowed = auth == null ? false : (await predicate(auth)) === true;
    coreRequireCheck(() => allowed)(auth, context);
  });
}
