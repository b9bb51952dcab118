/**
 * Authorization on a verified caller: role and scope helpers plus the check factories
 * that every adapter wraps as a route guard. A check runs after authentication, and an
 * unauthenticated caller always gets 401 before any 403, so a bad token is never
 * reported as a missing permission.
 */
import {
  InsufficientScopeError,
  UnauthorizedError,
  ZitauthConfigError,
  type ChallengeOptions,
} from '../errors.js';
import type { AuthContext } from '../types.js';

/** What a guard knows about the request beyond the caller: the organisation in question. */
export interface CheckContext {
  /** Organisation id taken from the request (route parameter, header…), if any. */
  orgId?: string | undefined;
  /** Realm of the challenge when the check fails. @default 'api' */
  realm?: string | undefined;
  /** `resource_metadata` of the challenge when the check fails (RFC 9728). @default not sent */
  resourceMetadata?: string | undefined;
}

/** The challenge parameters of a failed check. */
function challengeOf(context: CheckContext | undefined): ChallengeOptions {
  return { realm: context?.realm ?? 'api', resourceMetadata: context?.resourceMetadata };
}

/**
 * A permission check: returns when allowed, throws a `ZitauthError` otherwise. Role and
 * scope checks are synchronous; a check built on an async predicate returns a promise.
 */
export type AuthCheck = (
  auth: AuthContext | null | undefined,
  context?: CheckContext,
) => void | Promise<void>;

/** How several required roles or scopes combine. */
export type Match = 'all' | 'any';

/** Options of {@link requireRoles}. */
export interface RequireRolesOptions {
  /** `'all'`: every role is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
  /** Fail with 403 when the request names no organisation. @default false */
  orgRequired?: boolean;
}

/** The organisations (`orgId → domain`) in which the caller holds `role`. */
export function roleOrganizations(
  auth: AuthContext,
  role: string,
): Readonly<Record<string, string>> {
  return Object.hasOwn(auth.roles, role) ? (auth.roles[role] ?? {}) : {};
}

/**
 * True when the caller holds `role`; with `orgId`, only when granted in that organisation.
 * A role listed with no organisation (other providers' plain role arrays) counts for the
 * first form only.
 */
export function hasRole(auth: AuthContext, role: string, orgId?: string): boolean {
  if (orgId === undefined) return Object.hasOwn(auth.roles, role);
  return Object.hasOwn(roleOrganizations(auth, role), orgId);
}

/** True when the caller holds at least one of `roles` (in `orgId`, when given). */
export function hasAnyRole(auth: AuthContext, roles: readonly string[], orgId?: string): boolean {
  return roles.some((role) => hasRole(auth, role, orgId));
}

/** True when the caller holds every one of `roles` (in `orgId`, when given). */
export function hasAllRoles(auth: AuthContext, roles: readonly string[], orgId?: string): boolean {
  return roles.every((role) => hasRole(auth, role, orgId));
}

/** True when the token grants `scope`. */
export function hasScope(auth: AuthContext, scope: string): boolean {
  return auth.scopes.includes(scope);
}

function toList(value: string | readonly string[], what: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((v) => typeof v !== 'string' || v === '')
  ) {
    throw new ZitauthConfigError(`zitauth: ${what} needs at least one non-empty string`);
  }
  return list;
}

function authenticated(auth: AuthContext | null | undefined, context?: CheckContext): AuthContext {
  if (auth == null) throw new UnauthorizedError(challengeOf(context));
  return auth;
}

/** A check that the caller holds the given roles, optionally in the request's organisation. */
export function requireRoles(
  roles: string | readonly string[],
  options: RequireRolesOptions = {},
): AuthCheck {
  const list = toList(roles, 'requireRoles');
  const match = options.match ?? 'all';
  return (maybeAuth, context) => {
    const auth = authenticated(maybeAuth, context);
    const orgId = context?.orgId;
    if (orgId === undefined && options.orgRequired === true) {
      throw new InsufficientScopeError(challengeOf(context));
    }
    const ok = match === 'any' ? hasAnyRole(auth, list, orgId) : hasAllRoles(auth, list, orgId);
    if (!ok) throw new InsufficientScopeError(challengeOf(context));
  };
}

/**
 * What an operator reads when a scope guard refuses a JWT that has no scope claim at all.
 * ZITADEL's JWT access tokens never carry one (its introspection answers do), so such a
 * guard refuses every ZITADEL JWT: a setup problem, not the caller's.
 */
export const JWT_WITHOUT_SCOPE_HINT =
  'zitauth: requireScopes() refused a JWT access token that has no scope claim. ZITADEL JWT ' +
  'access tokens carry none (only introspection answers do), so this guard refuses every ' +
  'ZITADEL JWT. Set introspectJwt: true with introspection credentials (scopes are then read ' +
  'from introspection), issue opaque tokens, or guard the route with requireRoles().';

/** A JWT verified locally whose claims name no scopes in any form. */
function scopelessJwt(auth: AuthContext): boolean {
  return auth.tokenKind === 'jwt' && !('scope' in auth.claims) && !('scp' in auth.claims);
}

/**
 * A check that the token grants the given scopes; a failure names them in the challenge.
 * Refusing a JWT without any scope claim also warns the operator once per guard
 * (`process.emitWarning`, code `ZITAUTH_JWT_WITHOUT_SCOPE`) and puts the same explanation
 * in the error's `cause`; the client still gets the generic 403.
 */
export function requireScopes(
  scopes: string | readonly string[],
  options: { match?: Match } = {},
): AuthCheck {
  const list = toList(scopes, 'requireScopes');
  const match = options.match ?? 'all';
  let warned = false;
  return (maybeAuth, context) => {
    const auth = authenticated(maybeAuth, context);
    const ok =
      match === 'any'
        ? list.some((scope) => hasScope(auth, scope))
        : list.every((scope) => hasScope(auth, scope));
    if (ok) return;
    const challenge = challengeOf(context);
    if (!scopelessJwt(auth)) throw new InsufficientScopeError({ ...challenge, scopes: list });
    if (!warned) process.emitWarning(JWT_WITHOUT_SCOPE_HINT, { code: 'ZITAUTH_JWT_WITHOUT_SCOPE' });
    warned = true;
    const cause = new ZitauthConfigError(JWT_WITHOUT_SCOPE_HINT);
    throw new InsufficientScopeError({ ...challenge, scopes: list, cause });
  };
}

/**
 * A check that the caller was verified by one of `issuers` (exact issuer URLs), for an
 * API trusting several: a valid token from another trusted issuer gets 403.
 */
export function requireIssuer(issuers: string | readonly string[]): AuthCheck {
  const list = toList(issuers, 'requireIssuer');
  return (maybeAuth, context) => {
    const auth = authenticated(maybeAuth, context);
    if (!list.includes(auth.issuer)) {
      throw new InsufficientScopeError(challengeOf(context));
    }
  };
}

/**
 * A check from your own predicate, sync or async. Only exactly `true` allows: a forgotten
 * `await` (a promise is truthy) or a truthy non-boolean must never grant access.
 */
export function requireCheck(
  predicate: (auth: AuthContext) => boolean | Promise<boolean>,
): AuthCheck {
  if (typeof predicate !== 'function') {
    throw new ZitauthConfigError('zitauth: requireCheck needs a function (auth) => boolean');
  }
  return (maybeAuth, context) => {
    const auth = authenticated(maybeAuth, context);
    const deny = (): never => {
      throw new InsufficientScopeError(challengeOf(context));
    };
    const result = predicate(auth);
    if (result === true) return;
    if (result instanceof Promise)
      return result.then((allowed) => (allowed === true ? undefined : deny()));
    deny();
  };
}
