/**
 * Route guards built from core's checks (`authorize.ts`): the organisation read from the
 * framework's request, the challenge of the verifier that authenticated it, DPoP kept on
 * a refusal, and a 500 where no authentication ran. Each adapter binds them to its own
 * request type.
 */
import type { IncomingMessage } from 'node:http';
import {
  requireCheck,
  requireIssuer,
  requireRoles,
  requireScopes,
  type AuthCheck,
  type Match,
} from './authorize.js';
import {
  ZitauthConfigError,
  ZitauthError,
  type ChallengeOptions,
  type DpopChallenge,
} from '../errors.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import type { AuthContext, Verifier } from '../types.js';
import { headerValues } from './node-request.js';
import { guardWithoutAuth, refuseRequestArgument } from './misuse.js';

/**
 * Where the organisation a role must be granted in comes from: a route parameter, a
 * request header, or a function of the framework's request. A request that names none
 * is refused (403).
 */
export type OrgSource<R> =
  { param: string } | { header: string } | ((request: R) => string | undefined);

/** How an adapter reads its request: a route parameter and a Node request. */
export interface RequestAccess<R> {
  param(request: R, name: string): unknown;
  message(request: R): IncomingMessage;
}

/** Options of a role guard. */
export interface RoleGuardOptions<R> {
  /** `'all'`: every role is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
  /** Require the role in the organisation the request names. @default any organisation */
  org?: OrgSource<R>;
}

/** Options of a scope guard. */
export interface ScopeGuardOptions {
  /** `'all'`: every scope is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
}

// A misspelt `org` would otherwise grant a role held in any organisation.
const ROLE_GUARD_KEYS = optionKeys<RoleGuardOptions<unknown>>({ match: true, org: true });
const SCOPE_GUARD_KEYS = optionKeys<ScopeGuardOptions>({ match: true });

/**
 * A guard's decision for one request: returns (or resolves) when allowed, throws otherwise,
 * with the challenge parameters of the verifier that authenticated the request.
 * `auth` is the caller, `null` when authentication ran and found no token (optional auth),
 * or `undefined` when no authentication ran: a misuse, answered with a `MisuseError` (500).
 */
export type Guard<R> = (
  auth: AuthContext | null | undefined,
  request: R,
  challenge: GuardChallenge | undefined,
) => void | Promise<void>;

/** The challenge of a guard's refusal: the verifier's parameters and its DPoP challenge. */
export interface GuardChallenge extends ChallengeOptions {
  dpop?: Omit<DpopChallenge, 'used'> | undefined;
}

/**
 * The challenge parameters of a verifier's refusals (realm, RFC 9728 `resource_metadata`,
 * the DPoP challenge), so a guard's 401 or 403 points to the same places as the
 * verifier's own.
 */
export function challengeOptions(verifier: Verifier): GuardChallenge {
  return Object.freeze({
    realm: verifier.realm,
    resourceMetadata: verifier.protectedResource?.metadataUrl,
    dpop: verifier.dpopChallenge,
  });
}

/**
 * A guard's refusal with DPoP on carries the DPoP challenge (RFC 9449 §7.1), the error on
 * the scheme the request used: a token bound to a key (`cnf.jkt`) is only ever accepted
 * with the DPoP scheme, any other with Bearer.
 */
function withDpop(
  error: unknown,
  auth: AuthContext | null | undefined,
  dpop: Omit<DpopChallenge, 'used'>,
): unknown {
  if (!(error instanceof ZitauthError)) return error;
  const cnf = auth?.claims['cnf'];
  const bound = typeof cnf === 'object' && cnf !== null && 'jkt' in cnf;
  return error.withDpop({ ...dpop, used: bound ? 'DPoP' : 'Bearer' });
}

/**
 * A header counts only when sent exactly once: two values are ambiguous, and picking one
 * could check a role in an organisation other than the one the handler acts on.
 */
function orgReader<R>(
  source: OrgSource<R>,
  access: RequestAccess<R>,
): (request: R) => string | undefined {
  if (typeof source === 'function') return source;
  if (typeof source === 'object' && source !== null) {
    if ('param' in source && typeof source.param === 'string') {
      const name = source.param;
      return (request) => {
        const value = access.param(request, name);
        return typeof value === 'string' ? value : undefined;
      };
    }
    if ('header' in source && typeof source.header === 'string') {
      const name = source.header.toLowerCase();
      return (request) => {
        const values = headerValues(access.message(request), name);
        return values?.length === 1 ? values[0] : undefined;
      };
    }
  }
  throw new ZitauthConfigError(
    'zitauth: org must be { param }, { header } or a function of the request',
  );
}

function toGuard<R>(
  name: string,
  check: AuthCheck,
  orgOf?: (request: R) => string | undefined,
): Guard<R> {
  return (auth, request, challenge) => {
    if (auth === undefined) throw guardWithoutAuth(name);
    const orgId = orgOf?.(request) || undefined; // an empty value names no organisation
    const dpop = challenge?.dpop;
    if (dpop === undefined) return check(auth, { ...challenge, orgId });
    const refuse = (error: unknown): never => {
      throw withDpop(error, auth, dpop);
    };
    try {
      const decision = check(auth, { ...challenge, orgId });
      return decision instanceof Promise ? decision.catch(refuse) : decision;
    } catch (error) {
      return refuse(error);
    }
  };
}

/** How a guard is named in a message: `requireRoles(admin, editor)`. */
function label(guard: string, values: string | readonly string[]): string {
  const list = typeof values === 'string' ? [values] : Array.isArray(values) ? values : [];
  return `${guard}(${list.join(', ').slice(0, 80)})`;
}

/** A guard: callers need `roles` (403 otherwise); with `org`, in the request's organisation. */
export function roleGuard<R>(
  roles: string | readonly string[],
  options: RoleGuardOptions<R>,
  access: RequestAccess<R>,
): Guard<R> {
  refuseRequestArgument(roles, 'requireRoles', "requireRoles('admin')");
  checkOptionKeys(options, ROLE_GUARD_KEYS, 'requireRoles options');
  const match = options.match === undefined ? {} : { match: options.match };
  const check = requireRoles(roles, { ...match, orgRequired: options.org !== undefined });
  return toGuard(
    label('requireRoles', roles),
    check,
    options.org === undefined ? undefined : orgReader(options.org, access),
  );
}

/** A guard: the token must grant `scopes` (403 naming them otherwise). */
export function scopeGuard<R>(
  scopes: string | readonly string[],
  options: ScopeGuardOptions = {},
): Guard<R> {
  refuseRequestArgument(scopes, 'requireScopes', "requireScopes('quotes:read')");
  checkOptionKeys(options, SCOPE_GUARD_KEYS, 'requireScopes options');
  return toGuard(
    label('requireScopes', scopes),
    requireScopes(scopes, options.match === undefined ? {} : { match: options.match }),
  );
}

/** A guard: the caller must have been verified by one of `issuers` (403 otherwise). */
export function issuerGuard<R>(issuers: string | readonly string[]): Guard<R> {
  refuseRequestArgument(issuers, 'requireIssuer', "requireIssuer('https://issuer.example')");
  return toGuard(label('requireIssuer', issuers), requireIssuer(issuers));
}

/** A guard: `predicate` (sync or async) must return exactly `true` (403 otherwise). */
export function checkGuard<R>(
  predicate: (auth: AuthContext) => boolean | Promise<boolean>,
): Guard<R> {
  refuseRequestArgument(predicate, 'requireCheck', 'requireCheck((auth) => auth.orgId !== null)');
  return toGuard('requireCheck()', requireCheck(predicate));
}
