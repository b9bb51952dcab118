/**
 * What every framework adapter needs besides the verifier, kept here so Express, Koa and
 * Fastify behave the same by construction: option resolution (a bad option fails where
 * the middleware is created) and the cheapest way to ask the verifier. The request
 * mapping is `node-request.ts`, the route guards `guards.ts`, and the answers to misuse
 * `misuse.ts`; an adapter supplies only the accessors of its own request type.
 */
import { ANSWER_SYNC, type Answering } from '../verification/answer.js';
import type { ZitauthError } from '../errors.js';
import { ZitauthConfigError } from '../errors.js';
import {
  createMultiIssuerVerifier,
  MULTI_ISSUER_KEYS,
  type MultiIssuerOptions,
} from '../verification/multi-issuer.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import { VERIFIER_KEYS } from '../verification/options.js';
import type { AuthContext, TokenRequest, Verifier, VerifierOptions } from '../types.js';
import { createVerifier } from '../verification/verifier.js';
import { refuseRequestArgument } from './misuse.js';

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
