/**
 * The pipeline: extract → route → cache → verify (local JWT or introspection) →
 * normalize. Each step lives in its own module; this file only wires them and holds
 * the per-verifier state (caches, shutdown signal). Results are cached under the
 * SHA-256 of the token for at most `maxTtlMs` and never past the token's `exp`; cached
 * claims are re-checked on every hit, so an entry can never outlive its token's validity.
 */
import { setMaxListeners } from 'node:events';
import { createMemoryStore, createSingleFlight, tokenHash, type CacheFill } from './cache.js';
import { ANSWER_SYNC, asRefusal, thrown, type Answering } from './answer.js';
import { createRefusalCache } from './refusal-cache.js';
import { checkClaims, checkLifetime, type ClaimPolicy } from './claim-checks.js';
import {
  createInterner,
  createRolesSource,
  noInterning,
  toAuthContext,
  type RolesSource,
} from './claims.js';
import { checkBinding, createDpop, type CheckedProof, type DpopRuntime } from './dpop.js';
import {
  DpopProofError,
  InvalidTokenError,
  UnauthorizedError,
  ZitauthError,
  type ChallengeOptions,
} from '../errors.js';
import {
  checkTokenSyntax,
  extractCredential,
  type Credential,
  type ExtractOptions,
} from './extract.js';
import type { HttpOptions } from '../idp/http.js';
import { createNodeTransport } from '../idp/node-transport.js';
import { publishCacheLookUp, publishRefused, publishVerified } from '../observability/decisions.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { createProtectedResource, type BearerMethod } from '../adapter-kit/resource-metadata.js';
import type {
  AuthContext,
  CachedResult,
  TokenRequest,
  VerifierOptions,
  ZitauthVerifier,
} from '../types.js';
import { createCheck } from './check.js';
import {
  cachePrefix,
  INACTIVE,
  isInactive,
  safeStore,
  ttlOf,
  untilExp,
  type Entry,
} from './cache-policy.js';

export { isCompactJws } from './check.js';

/** Where tokens are accepted, as RFC 9728's `bearer_methods_supported` names it. */
export function bearerMethods(transport: ResolvedOptions['transport']): BearerMethod[] {
  return [
    'header',
    ...(transport.body ? (['body'] as const) : []),
    ...(transport.query ? (['query'] as const) : []),
  ];
}

/**
 * Builds a verifier. Throws `ZitauthConfigError` synchronously on a configuration mistake;
 * `await verifier.ready()` then checks what only the IdP can tell (see `readiness.ts`).
 */
export function createVerifier(options: VerifierOptions): ZitauthVerifier {
  const config = resolveOptions(options);
  const protectedResource =
    options.protectedResource === undefined
      ? undefined
      : createProtectedResource(options.protectedResource, {
          issuers: [config.issuer],
          bearerMethods: bearerMethods(config.transport),
          dpopAlgorithms: config.dpop?.algorithms,
          dpopRequired: config.dpop?.mode === 'required',
        });
  // What every challenge of this verifier carries, built once: refusals only point to it.
  const challenge: ChallengeOptions = Object.freeze({
    realm: config.realm,
    resourceMetadata: protectedResource?.metadataUrl,
  });
  const shutdown = new AbortController();
  // Each IdP call in flight listens to it (and lets go when answered); many may run at once.
  setMaxListeners(0, shutdown.signal);
  const http: HttpOptions = { timeoutMs: config.timeoutMs, signal: shutdown.signal };
  if (config.fetch !== undefined) http.fetch = config.fetch;
  else http.transport = createNodeTransport();
  const policy: ClaimPolicy = {
    issuer: config.issuer,
    audiences: config.audiences,
    allowedClientIds: config.allowedClientIds,
    clockToleranceMs: config.clockToleranceMs,
    maxTokenAgeMs: config.maxTokenAgeMs,
  };
  const { check, checkSync, ready } = createCheck(config, http, policy);
  // Role maps, audiences and scope lists are shared between the contexts of many cached
  // tokens; with caching off no context is kept, so sharing claim values would only cost
  // time. Role maps are shared either way: looking one up costs less than building and
  // freezing a new one for every token.
  const interner = createInterner();
  const intern = config.cache.enabled ? interner : noInterning;
  const roles: RolesSource = createRolesSource(options.roles, config.projectId, interner);
  // A configured (shared) store keeps results under prefixed keys and is read through
  // promises. Without one, an in-process store keeps entries and is read synchronously,
  // so a cached token is answered without a promise.
  const store = config.cache.store === undefined ? undefined : safeStore(config.cache.store);
  const front =
    store === undefined
      ? createMemoryStore<Entry>({ maxEntries: config.cache.maxEntries, now: config.now })
      : undefined;
  const refusals = createRefusalCache({ ttlMs: config.cache.inactiveTtlMs, now: config.now });
  const prefix = cachePrefix(config);
  const shared = createSingleFlight<Entry>();
  const dpop: DpopRuntime | undefined =
    config.dpop === undefined
      ? undefined
      : createDpop(config.dpop, { now: config.now, toleranceMs: config.clockToleranceMs });
  const extractOptions: ExtractOptions = {
    transport: config.transport,
    maxTokenBytes: config.maxTokenBytes,
    errors: challenge,
    dpop: dpop !== undefined,
  };

  // Hashes of tokens seen active, kept until their exp (past the result cache's shorter
  // TTL): when such a token is introspected again it may use the capacity kept for known
  // callers, which a flood of never-seen tokens cannot take. Without introspection there
  // is nothing to keep.
  const seen =
    config.introspection === undefined
      ? undefined
      : createMemoryStore<object>({ maxEntries: config.cache.maxEntries, now: config.now });
  const SEEN = Object.freeze({});
  const remember = (key: string, result: CachedResult): void => {
    const ttl = result.active ? Math.min(untilExp(result, config), 86_400_000) : 0;
    if (ttl > 0) seen?.set(key, SEEN, ttl);
  };

  /** Checks a token not in any cache; lasting refusals and active tokens are remembered. */
  async function load(token: string, key: string): Promise<CacheFill<CachedResult>> {
    let result: CachedResult;
    try {
      result = await check(token, seen?.get(key) !== undefined);
    } catch (error) {
      refusals.remember(key, error);
      throw error;
    }
    return settle(key, result);
  }

  /** A checked token's result remembered (see `seen`), with how long it may be cached. */
  function settle(key: string, result: CachedResult): CacheFill<CachedResult> {
    remember(key, result);
    return { value: result, ttlMs: ttlOf(result, config) };
  }

  /** The entry of a settled result, kept in the in-process store for its TTL. */
  function keep(key: string, { value, ttlMs }: CacheFill<CachedResult>): Entry {
    const entry = toEntry(value);
    if (ttlMs > 0) front!.set(key, entry, ttlMs);
    return entry;
  }

  /**
   * A token memory does not know, checked without a promise when that needs no I/O (a
   * JWT whose key is in memory, and the in-process store): its caller, its refusal
   * (returned), or undefined to go the asynchronous way; a malformed token still throws.
   * Remembered as `load` and `lookUp` would.
   */
  function loadSync(
    token: string,
    key: string | undefined,
  ): AuthContext | ZitauthError | undefined {
    if (key !== undefined && front === undefined) return undefined;
    checkTokenSyntax(token, extractOptions);
    // Every refusal of the synchronous check comes back as a value; a throw from it is a
    // bug, which goes out as itself.
    const result = checkSync(token);
    if (result instanceof ZitauthError) {
      // A missed look-up: the refusal is kept if it is a lasting one.
      if (key !== undefined) {
        publishCacheLookUp(config.issuer, false);
        refusals.remember(key, result);
      }
      return result;
    }
    // Undefined: `authenticate` takes over, and publishes the miss itself.
    if (result === undefined) return undefined;
    if (key === undefined) return accept(toEntry(result), undefined, true);
    publishCacheLookUp(config.issuer, false);
    return accept(keep(key, settle(key, result)), undefined, true);
  }

  /** The entry of a token not in the in-process store; `key` undefined: caching is off. */
  async function lookUp(token: string, key: string | undefined): Promise<Entry> {
    if (key === undefined) return toEntry(await check(token, false));
    if (store === undefined) {
      return shared(key, async () => keep(key, await load(token, key)));
    }
    const storeKey = prefix + key;
    const cached = await store.get(storeKey);
    publishCacheLookUp(config.issuer, cached !== undefined);
    if (cached !== undefined) return entryOf(cached);
    return shared(key, async () => entryOf(await store.fill(storeKey, () => load(token, key))));
  }

  function toEntry(result: CachedResult): Entry {
    return result.active ? toAuthContext(result.claims, result.kind, roles, intern) : INACTIVE;
  }

  // A configured store may hand back the same result object on every hit (an in-process
  // store does), so its entry is built once; a store that deserializes gets it rebuilt.
  const entries = new WeakMap<CachedResult, Entry>();
  function entryOf(result: CachedResult): Entry {
    let entry = entries.get(result);
    if (entry === undefined) {
      entry = toEntry(result);
      entries.set(result, entry);
    }
    return entry;
  }

  /**
   * A raw token's cache key, or undefined when caching is off. Only the checks that cost
   * nothing come first (a token longer than the cap in UTF-16 units is over it in bytes,
   * so no more than the cap is ever hashed); the syntax is checked on a miss
   * ({@link unknownToken}), since memory holds only tokens that passed it.
   */
  function keyOf(token: string): string | undefined {
    if (typeof token !== 'string' || token === '') {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
    }
    if (token.length > config.maxTokenBytes) {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE');
    }
    return config.cache.enabled ? tokenHash(token) : undefined;
  }

  /** A token memory does not know: its size in bytes and `b64token` syntax, then its entry. */
  function unknownToken(token: string, key: string | undefined): Promise<Entry> {
    checkTokenSyntax(token, extractOptions);
    return lookUp(token, key);
  }

  /**
   * An active result's caller; with DPoP on, only when its key binding fits `proof`.
   * `fresh`: the entry did not come from this verifier's memory (a check just made, or a
   * shared store), so every claim rule runs; an entry from memory passed them when it was
   * stored, and only the clock can have changed its answer since.
   */
  function accept(entry: Entry, proof: CheckedProof | undefined, fresh: boolean): AuthContext {
    if (isInactive(entry)) throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_INACTIVE');
    // Re-checked on every use: a cached entry must not outlive exp or nbf.
    if (fresh) checkClaims(entry.claims, policy, config.now());
    else checkLifetime(entry.claims, policy, config.now());
    // Also on every use: a cached bound token still needs this request's proof.
    if (dpop !== undefined) checkBinding(entry.claims, proof, dpop.mode);
    publishVerified(config.issuer, entry);
    return entry;
  }

  /**
   * The answer memory alone can give (undefined when it needs I/O or a signature); a
   * token memory refused before is returned as its refusal, not thrown (see answer.ts). A
   * miss that sends the caller on to `authenticate` is published there, not here
   * (`publishMiss: false`), so a request counts as one look-up.
   */
  function fromMemory(
    key: string | undefined,
    proof?: CheckedProof,
    publishMiss = true,
  ): AuthContext | ZitauthError | undefined {
    if (key === undefined || front === undefined) return undefined;
    const cached = front.get(key);
    if (cached !== undefined) {
      publishCacheLookUp(config.issuer, true);
      return accept(cached, proof, false);
    }
    const refused = refusals.get(key);
    if (refused !== undefined || publishMiss) publishCacheLookUp(config.issuer, false);
    if (refused !== undefined) return new InvalidTokenError(refused, challenge);
    return undefined;
  }

  async function verify(token: string): Promise<AuthContext> {
    try {
      const key = keyOf(token);
      return thrown(fromMemory(key)) ?? accept(await unknownToken(token, key), undefined, true);
    } catch (error) {
      throw refused(error);
    }
  }

  /**
   * A refusal on its way out: the configured realm applied (and the DPoP challenges, with
   * the error on the scheme the request used), and published.
   */
  function refused(error: unknown, scheme: Credential['scheme'] = 'Bearer'): unknown {
    if (!(error instanceof ZitauthError)) return error;
    publishRefused(config.issuer, error);
    const answer = error.withChallenge(challenge);
    if (dpop === undefined) return answer;
    return answer.withDpop({ algs: dpop.algs, bearer: dpop.mode === 'allowed', used: scheme });
  }

  /** A refusal thrown on the way as a value (published, with the challenge); anything else is rethrown. */
  function refusal(error: unknown, scheme?: Credential['scheme']): ZitauthError {
    return asRefusal(refused(error, scheme));
  }

  /** The request's credential, null without one when none is required, else its refusal. */
  function credentialOf(
    request: TokenRequest,
    required: boolean,
  ): Credential | null | ZitauthError {
    let credential: Credential | undefined;
    try {
      credential = extractCredential(request, extractOptions);
    } catch (error) {
      return refusal(error);
    }
    if (credential !== undefined) return credential;
    if (!required) return null;
    return refusal(new UnauthorizedError(challenge));
  }

  /** The proof of a `DPoP` request (checked before the token: a bad one costs no IdP call). */
  function proofOf(credential: Credential, request: TokenRequest, runtime: DpopRuntime) {
    if (credential.scheme === 'DPoP') return runtime.check(request, credential.token);
    if (runtime.mode === 'required') throw new InvalidTokenError('ERR_ZITAUTH_DPOP_REQUIRED');
    return undefined;
  }

  /** Marks a proof used; the second use of a proof is refused. */
  function spend(fresh: boolean): void {
    if (!fresh) throw new DpopProofError('ERR_ZITAUTH_DPOP_PROOF_REPLAYED');
  }

  async function verifyWithProof(
    credential: Credential,
    request: TokenRequest,
    runtime: DpopRuntime,
  ): Promise<AuthContext> {
    try {
      const proof = proofOf(credential, request, runtime);
      const key = keyOf(credential.token);
      const context =
        thrown(fromMemory(key, proof)) ??
        accept(await unknownToken(credential.token, key), proof, true);
      // Spent only once the request is accepted, so a refused request burns no proof.
      if (proof !== undefined) spend(await runtime.remember(proof));
      return context;
    } catch (error) {
      throw refused(error, credential.scheme);
    }
  }

  async function authenticate(
    request: TokenRequest,
    { required = true }: { required?: boolean } = {},
  ): Promise<AuthContext | null> {
    const credential = thrown(credentialOf(request, required));
    if (credential === null) return null;
    if (dpop === undefined) return verify(credential.token);
    return verifyWithProof(credential, request, dpop);
  }

  /**
   * A `DPoP` request answered from memory: only when memory knows the token (else the
   * proof is left for `authenticate`, unspent) and proof ids are remembered in-process.
   */
  function fromMemoryWithProof(
    credential: Credential,
    request: TokenRequest,
    runtime: DpopRuntime,
  ): AuthContext | ZitauthError | undefined {
    const key = keyOf(credential.token);
    if (credential.scheme === 'Bearer') {
      proofOf(credential, request, runtime);
      return fromMemory(key, undefined, false);
    }
    if (!runtime.sync || key === undefined || front === undefined) return undefined;
    if (front.get(key) === undefined && refusals.get(key) === undefined) return undefined;
    const proof = proofOf(credential, request, runtime)!;
    const context = fromMemory(key, proof, false);
    if (context !== undefined && !(context instanceof ZitauthError)) {
      spend(runtime.remember(proof) as boolean);
    }
    return context;
  }

  /**
   * The answer memory alone can give, with refusals returned (see answer.ts): the caller,
   * null, a refusal, or undefined when the answer needs I/O. No token and a token memory
   * already refused are answered without a throw; other refusals are caught once.
   */
  function answerSync(
    request: TokenRequest,
    required: boolean,
  ): AuthContext | null | ZitauthError | undefined {
    const credential = credentialOf(request, required);
    if (credential === null || credential instanceof ZitauthError) return credential;
    try {
      let known: AuthContext | ZitauthError | undefined;
      if (dpop === undefined) {
        const key = keyOf(credential.token);
        known = fromMemory(key, undefined, false) ?? loadSync(credential.token, key);
      } else {
        known = fromMemoryWithProof(credential, request, dpop);
      }
      return known instanceof ZitauthError ? refusal(known, credential.scheme) : known;
    } catch (error) {
      return refusal(error, credential.scheme);
    }
  }

  function authenticateSync(
    request: TokenRequest,
    { required = true }: { required?: boolean } = {},
  ): AuthContext | null | undefined {
    return thrown(answerSync(request, required));
  }

  const verifier: ZitauthVerifier & Answering = {
    [ANSWER_SYNC]: answerSync,
    issuer: config.issuer,
    realm: config.realm,
    protectedResource,
    dpopChallenge:
      dpop === undefined ? undefined : { algs: dpop.algs, bearer: dpop.mode === 'allowed' },
    verify,
    authenticate,
    authenticateSync,
    ready,
    close: () => {
      shutdown.abort();
      http.transport?.close();
    },
  };
  return verifier;
}
