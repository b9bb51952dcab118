/**
 * What every framework adapter needs besides the verifier, kept here so Express, Koa and
 * Fastify behave the same by construction: option resolution (a bad option fails where
 * the middleware is created), the request-to-`TokenRequest` mapping, and route guards
 * that read the organisation from a request. An adapter supplies only the accessors of
 * its own request type; every decision is made in this module or in `authorize.ts`.
 */
import type { IncomingMessage } from 'node:http';
import { ANSWER_SYNC, type Answering } from '../verification/answer.js';
import {
  requireCheck,
  requireIssuer,
  requireRoles,
  requireScopes,
  type AuthCheck,
  type Match,
} from './authorize.js';
import {
  MisuseError,
  ZitauthConfigError,
  ZitauthError,
  type ChallengeOptions,
  type DpopChallenge,
} from '../errors.js';
import {
  createMultiIssuerVerifier,
  MULTI_ISSUER_KEYS,
  type MultiIssuerOptions,
} from '../verification/multi-issuer.js';
import { reportOperatorFault } from '../observability/operator-fault.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import { VERIFIER_KEYS } from '../verification/options.js';
import type { AuthContext, TokenRequest, Verifier, VerifierOptions } from '../types.js';
import { createVerifier } from '../verification/verifier.js';

/** Options an adapter reads itself; everything else goes to `createVerifier`. */
export interface AdapterOptions {
  /**
   * Refuse requests that send no token (401). With `false` they continue with
   * `auth = null`; a token that is sent and bad is still refused. @default true
   */
  authRequired?: boolean;
}

/**
 * Verifier options, several issuers (`{ issuers: [...] }`), or `{ verifier }` to share one
 * verifier, plus the adapter's options.
 */
export type AuthOptions = (VerifierOptions | MultiIssuerOptions | { verifier: Verifier }) &
  AdapterOptions;

/** A verifier and how an adapter uses it. */
export interface ResolvedAuth {
  verifier: Verifier;
  /** Whether a request without a token is refused. */
  required: boolean;
  /** True when the verifier was built here, so the adapter must close it. */
  owned: boolean;
}

/** True for a verifier from `createVerifier` (or anything with the same surface). */
export function isVerifier(value: unknown): value is Verifier {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Verifier>).authenticate === 'function'
  );
}

/** A boolean option: `undefined` gives `fallback`; anything but a boolean is refused. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ZitauthConfigError(`zitauth: ${name} must be true or false`);
  }
  return value ?? fallback;
}

/** The keys of `AdapterOptions`. */
const ADAPTER_KEYS = optionKeys<AdapterOptions>({ authRequired: true });

/**
 * Refuses a key that neither the verifier nor the adapter reads. `issuers` and `verifier`
 * are known in the single-issuer form too (their presence selects another form), so a
 * typo of either is suggested.
 */
function checkAdapterKeys(options: object, what: string, adapterKeys: readonly string[]): void {
  const own = [...ADAPTER_KEYS, ...adapterKeys];
  const where = `${what} options`;
  if ('verifier' in options) {
    checkOptionKeys(options, ['verifier', ...own], `${where} beside verifier`);
  } else if ('issuers' in options) {
    checkOptionKeys(options, [...MULTI_ISSUER_KEYS, ...own], where);
  } else {
    checkOptionKeys(options, [...VERIFIER_KEYS, 'issuers', 'verifier', ...own], where);
  }
}

/**
 * Builds (or takes) the verifier of an adapter; throws `ZitauthConfigError` on a bad option.
 * `adapterKeys` are further options the adapter reads itself: they are accepted here and
 * left out of what the verifier is built from.
 */
export function resolveAuthOptions(
  options: AuthOptions | Verifier,
  what = 'auth()',
  adapterKeys: readonly string[] = [],
): ResolvedAuth {
  if (typeof options !== 'object' || options === null) {
    throw new ZitauthConfigError(`zitauth: ${what} needs verifier options or a verifier`);
  }
  refuseRequestArgument(options, what, 'app.use(auth({ issuer, projectId }))');
  if (isVerifier(options)) return { verifier: options, required: true, owned: false };
  checkAdapterKeys(options, what, adapterKeys);
  const { authRequired, ...rest } = options;
  for (const key of adapterKeys) delete (rest as Record<string, unknown>)[key];
  const required = booleanOption(authRequired, 'authRequired', true);
  if ('issuers' in rest) {
    return { verifier: createMultiIssuerVerifier(rest), required, owned: true };
  }
  if (!('verifier' in rest)) return { verifier: createVerifier(rest), required, owned: true };
  if (!isVerifier(rest.verifier)) {
    throw new ZitauthConfigError('zitauth: verifier must come from createVerifier()');
  }
  return { verifier: rest.verifier, required, owned: false };
}

/**
 * Authenticates a request the cheapest way the verifier allows: synchronously when the
 * answer needs no I/O (a cached token, a JWT whose key is in memory, no token, a cached
 * refusal), so an adapter can go on without a promise, else through `authenticate`.
 * Returns the caller (or `null`), or a promise of it; throws or rejects with a
 * `ZitauthError`.
 */
export function authenticateRequest(
  verifier: Verifier,
  request: TokenRequest,
  required: boolean,
): AuthContext | null | Promise<AuthContext | null> {
  const known = verifier.authenticateSync?.(request, { required });
  return known !== undefined ? known : verifier.authenticate(request, { required });
}

/**
 * {@link authenticateRequest} with a synchronous refusal returned instead of thrown: the
 * caller, `null`, a `ZitauthError` to answer with, or a promise (which rejects with the
 * refusal). A verifier built by this package answers without any throw for no token and
 * for a token it already refused; any other verifier is asked through
 * `authenticateSync`, whose throw still reaches the caller.
 */
export function answerRequest(
  verifier: Verifier,
  request: TokenRequest,
  required: boolean,
): AuthContext | null | ZitauthError | Promise<AuthContext | null> {
  const answer = (verifier as Answering)[ANSWER_SYNC];
  if (answer === undefined) return authenticateRequest(verifier, request, required);
  const known = answer(request, required);
  return known !== undefined ? known : verifier.authenticate(request, { required });
}

function strings(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

function field(source: unknown, name: string): unknown {
  return typeof source === 'object' && source !== null && Object.hasOwn(source, name)
    ? (source as Record<string, unknown>)[name]
    : undefined;
}

/** `key` is `name` (lower-case letters) in any case; `key` has `name`'s length. */
function isHeaderName(key: string, name: string): boolean {
  for (let i = 0; i < name.length; i += 1) {
    // Setting bit 0x20 lower-cases an ASCII letter and can turn no other character into one.
    if ((key.charCodeAt(i) | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** A header's values so far with one more: the first as a string, more as an array. */
function collect(values: string | string[] | undefined, value: string): string | string[] {
  if (values === undefined) return value;
  if (typeof values === 'string') return [values, value];
  values.push(value);
  return values;
}

/**
 * Every value of a header of a Node request, from `rawHeaders`: `req.headers` keeps only
 * the first `Authorization`, which would hide a second credential, and Fastify's
 * `inject()` requests lack `headersDistinct`. `name` is lower case.
 */
export function headerValues(message: IncomingMessage, name: string): string[] | undefined {
  // Cheaper than `headersDistinct`, which builds an array for every header of the
  // request on first use; this runs on every request.
  const raw = message.rawHeaders;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toLowerCase() === name) {
      (values ??= []).push(raw[i + 1]!);
    }
  }
  return values;
}

/** Methods whose request body has defined semantics (RFC 6750 §2.2 rules out GET). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Whether a parsed body may carry a token: RFC 6750 §2.2 allows only a single-part
 * `application/x-www-form-urlencoded` body of a method that has one. A JSON field that
 * happens to be named `access_token` is application data, not a credential.
 */
export function isFormBody(message: IncomingMessage): boolean {
  if (!BODY_METHODS.has(message.method ?? '')) return false;
  const type = message.headers['content-type'];
  if (type === undefined) return false;
  return type.split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * The `TokenRequest` of a Node request: every `Authorization` header, plus `access_token`
 * from the parsed query, and from the parsed body when it is a form (core ignores both
 * unless enabled, but refuses a request that uses two methods either way).
 */
export function nodeTokenRequest(
  message: IncomingMessage,
  query?: unknown,
  body?: unknown,
): TokenRequest {
  // `Authorization` and `DPoP` in one pass over the raw headers (see headerValues); a
  // single value is kept as a string, and names are compared without lower-cased copies.
  let authorization: string | string[] | undefined;
  let dpop: string | string[] | undefined;
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === 13 && isHeaderName(key, 'authorization')) {
      authorization = collect(authorization, raw[i + 1]!);
    } else if (key.length === 4 && isHeaderName(key, 'dpop')) {
      dpop = collect(dpop, raw[i + 1]!);
    }
  }
  const request: TokenRequest = {
    authorization,
    headers: message.headers,
    // What a DPoP proof is checked against. Express rewrites `url` inside a mounted
    // router and keeps the client's target in `originalUrl`.
    dpop,
    method: message.method,
    path: (message as { originalUrl?: string }).originalUrl ?? message.url,
    secure: (message.socket as { encrypted?: boolean } | null)?.encrypted === true,
  };
  const fromQuery = strings(field(query, 'access_token'));
  if (fromQuery !== undefined) request.query = fromQuery;
  const fromBody = isFormBody(message) ? strings(field(body, 'access_token')) : undefined;
  if (fromBody !== undefined) request.body = fromBody;
  return request;
}

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

/**
 * The error of a guard that ran where no authentication did: `auth` is `undefined` only
 * then (authentication sets the caller or `null`). Answering 401 "no token" would send a
 * caller with a valid token looking for a fault that is the server's, so it is a 500
 * whose operator fault says what to change.
 */
export function guardWithoutAuth(guard: string): MisuseError {
  const fault = reportOperatorFault(
    'misuse',
    `zitauth: ${guard} ran on a request no authentication ran for, so it cannot know the ` +
      'caller and answers 500. An auth() / authenticate must run before this guard: in ' +
      'Express and Koa put auth() before it (app.use(auth(…)), or in the route before the ' +
      'guard); in Fastify give the route onRequest: app.authenticate (or register protect in ' +
      'its scope) and put the guard in preHandler.',
  );
  return new MisuseError({ cause: fault });
}

/**
 * `app.use(auth)`, or a guard factory given to a route uncalled (`requireRoles` for
 * `requireRoles('admin')`): the framework calls the factory with its request (Express
 * `req`, Koa `ctx`, Fastify `request`). That is refused with a 500 whose operator fault
 * names the missing call, rather than with a complaint about the request's own fields
 * (`unknown option "_events"`) or a list of strings it is not. Nothing that looks like a
 * request is a valid first argument of any factory, so nothing valid is refused.
 */
function refuseRequestArgument(value: unknown, factory: string, usage: string): void {
  if (!isRequestShaped(value)) return;
  const fault = reportOperatorFault(
    'misuse',
    `zitauth: ${factory} was used as a middleware itself, so the framework called it with ` +
      'a request, and it answers 500. It makes the middleware: call it and use what it ' +
      `returns, e.g. ${usage}.`,
  );
  throw new MisuseError({ cause: fault });
}

/** Express's `req` and Fastify's `request` have both; Koa's `ctx` holds `req` and `res`. */
function isRequestShaped(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return ('method' in value && 'headers' in value) || ('req' in value && 'res' in value);
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
