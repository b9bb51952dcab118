/**
 * The pipeline: extract → route → cache → verify (local JWT or introspection) →
 * normalize. Each step lives in its own module; this file only wires them and holds
 * the per-verifier state (caches, shutdown signal). Results are cached under the
 * SHA-256 of the token for at most `maxTtlMs` and never past the token's `exp`; cached
 * claims are re-checked on every hit, so an entry can never outlive its token's validity.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  createMemoryStore,
  createSingleFlight,
  tokenCacheKey,
  type CacheFill,
  type CacheStore,
} from './cache.js';
import { createRefusalCache } from './refusal-cache.js';
import { checkClaims, type ClaimPolicy } from './claim-checks.js';
import { createRolesSource, toAuthContext, type RolesSource } from './claims.js';
import { createDiscovery } from './discovery.js';
import { InvalidTokenError, UnauthorizedError, ZitauthError } from './errors.js';
import { extractToken, type ExtractOptions } from './extract.js';
import type { HttpOptions } from './http.js';
import { createIntrospector, type Introspector } from './introspection.js';
import { createKeySet, type KeySet } from './key-set.js';
import { looksLikeJws } from './jwt-shape.js';
import { createLocalVerifier, type LocalVerify } from './local-verifier.js';
import { createNodeTransport } from './node-transport.js';
import { publishCacheLookUp, publishRefused, publishVerified } from './observability/decisions.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { createReadinessCheck } from './readiness.js';
import type {
  AuthContext,
  CachedResult,
  TokenRequest,
  VerifierOptions,
  ZitauthVerifier,
} from './types.js';

/**
 * A token in the form of a compact JWS (three segments, the first a JSON header), so it
 * is verified as a JWT: one that is not canonical base64url is then refused as
 * malformed rather than sent to introspection as if it were opaque.
 */
export function isCompactJws(token: string): boolean {
  return looksLikeJws(token);
}

/** The uncached check of one token; `known` when it was seen active before. */
type Check = (token: string, known: boolean) => Promise<CachedResult>;

/**
 * Why an opaque token is refused without introspection, for the operator (the caller
 * sees only "type not accepted"). ZITADEL issues opaque access tokens unless the
 * application is set to JWT, so this is the first thing a new set-up runs into.
 */
const OPAQUE_NEEDS_INTROSPECTION = new Error(
  'opaque tokens need `introspection` credentials: set introspection: { clientId, clientSecret } or { keyFile } ' +
    "(ZITADEL's default access token type is opaque), or set the application's token type to JWT",
);

type EndpointOf = (
  override: string | undefined,
  name: 'jwks_uri' | 'introspection_endpoint',
) => () => Promise<string>;

/** The local JWT path (and its key set, for the start-up check), unless every token is introspected. */
function localPath(
  config: ResolvedOptions,
  http: HttpOptions,
  policy: ClaimPolicy,
  endpoint: EndpointOf,
): { verifyJwt: LocalVerify; keySet: KeySet } | undefined {
  if (config.mode === 'introspect') return undefined;
  const keySet = createKeySet({
    ...config.jwks,
    jwksUri: endpoint(config.jwksUri, 'jwks_uri'),
    http,
    now: config.now,
  });
  const verifyJwt = createLocalVerifier({
    keySet,
    policy,
    algorithms: config.algorithms,
    strictJwtProfile: config.strictJwtProfile,
    requireJti: config.requireJti,
    requiredClaims: config.requiredClaims,
    maxTokenLifetimeMs: config.maxTokenLifetimeMs,
    now: config.now,
  });
  return { verifyJwt, keySet };
}

/** The introspection path, when credentials are configured. */
function introspectionPath(
  config: ResolvedOptions,
  http: HttpOptions,
  endpoint: EndpointOf,
): Introspector | undefined {
  if (config.introspection === undefined) return undefined;
  return createIntrospector({
    issuer: config.issuer,
    endpoint: endpoint(config.introspectionEndpoint, 'introspection_endpoint'),
    auth: config.introspection,
    http,
    maxConcurrent: config.cache.maxConcurrentIntrospections,
    reservedForKnown: config.cache.reservedIntrospections,
    circuitBreaker: { ...config.circuitBreaker, now: config.now },
    now: config.now,
  });
}

/**
 * A JWT's claims, plus `scope` from its introspection answer when the JWT has none:
 * ZITADEL leaves scope out of JWT access tokens but answers it from introspection, so
 * `introspectJwt` is how scope guards work on ZITADEL JWTs.
 */
function withScope(
  claims: Record<string, unknown>,
  introspected: Record<string, unknown>,
): Record<string, unknown> {
  if ('scope' in claims || 'scp' in claims || !('scope' in introspected)) return claims;
  return { ...claims, scope: introspected['scope'] };
}

/**
 * The uncached check of one token, routed by its form and the configured mode, and the
 * start-up check of the same IdP parts.
 */
function createCheck(
  config: ResolvedOptions,
  http: HttpOptions,
  policy: ClaimPolicy,
): { check: Check; ready: () => Promise<void> } {
  const discovery = createDiscovery(config.issuer, {
    ...http,
    now: config.now,
    endpointOrigins: config.endpointOrigins,
    allowInsecureHttp: config.allowInsecureHttp,
  });
  const endpoint: EndpointOf = (override, name) =>
    override === undefined ? () => discovery.endpoint(name) : () => Promise.resolve(override);
  const local = localPath(config, http, policy, endpoint);
  const verifyJwt = local?.verifyJwt;
  const introspect = introspectionPath(config, http, endpoint);
  const ready = createReadinessCheck({ keySet: local?.keySet, introspect });

  async function introspected(
    token: string,
    kind: 'jwt' | 'opaque',
    known: boolean,
  ): Promise<CachedResult> {
    const claims = await introspect!(token, known);
    if (claims === null) return { active: false };
    checkClaims(claims, policy, config.now());
    return { active: true, kind, claims };
  }

  const check: Check = async (token, known) => {
    const jws = isCompactJws(token);
    if (jws && verifyJwt !== undefined) {
      const claims = await verifyJwt(token);
      if (!config.introspectJwt) return { active: true, kind: 'jwt', claims };
      const live = await introspected(token, 'jwt', known);
      return live.active
        ? { active: true, kind: 'jwt', claims: withScope(claims, live.claims) }
        : live;
    }
    if (config.mode === 'jwt') throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
    if (introspect === undefined) {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TYPE', { cause: OPAQUE_NEEDS_INTROSPECTION });
    }
    return introspected(token, jws ? 'jwt' : 'opaque', known);
  };
  return { check, ready };
}

/**
 * Cache key prefix: a hash of everything that decides whether a token is accepted. With a
 * shared store, a lenient verifier's result must never be served to a stricter one (other
 * algorithms, required claims, audiences...), and the header rules are not re-run on a
 * hit. Policy fields are picked by exclusion, so an option added later is covered unless
 * it is listed here as not deciding acceptance.
 */
export function cachePrefix(config: ResolvedOptions): string {
  const {
    fetch: _fetch,
    now: _now,
    cache: _cache,
    jwks: _jwks,
    timeoutMs: _timeoutMs,
    realm: _realm,
    transport: _transport,
    circuitBreaker: _circuitBreaker,
    introspection,
    ...policy
  } = config;
  // The introspection client decides which tokens the IdP reports active; its secret does not.
  const client =
    introspection === undefined
      ? null
      : 'clientId' in introspection
        ? introspection.clientId
        : 'key-file';
  const scope = JSON.stringify({ ...policy, client });
  return `zitauth:${createHash('sha256').update(scope).digest('base64url').slice(0, 16)}:`;
}

/** Milliseconds until an active result's token expires (0 without `exp`). */
function untilExp(result: CachedResult & { active: true }, config: ResolvedOptions): number {
  const exp = result.claims['exp'];
  return typeof exp === 'number' ? exp * 1000 - config.now() : 0;
}

/** How long a result may be reused: bounded by the cache limit and by the token's `exp`. */
function ttlOf(result: CachedResult, config: ResolvedOptions): number {
  if (!result.active) return config.cache.inactiveTtlMs;
  return Math.min(config.cache.maxTtlMs, untilExp(result, config));
}

/** A store that never fails a request: a broken shared cache degrades to a miss. */
function safeStore(store: CacheStore<CachedResult>) {
  const safe = {
    async get(key: string): Promise<CachedResult | undefined> {
      try {
        return await store.get(key);
      } catch {
        return undefined;
      }
    },
    async set(key: string, value: CachedResult, ttlMs: number): Promise<void> {
      if (ttlMs <= 0) return;
      try {
        await store.set(key, value, ttlMs);
      } catch {
        // A failed write only costs a later cache miss.
      }
    },
    /** Loads a missed entry, fleet-wide once when the store can (see `CacheStore.fill`). */
    async fill(key: string, load: () => Promise<CacheFill<CachedResult>>): Promise<CachedResult> {
      if (store.fill !== undefined) return store.fill(key, load);
      const { value, ttlMs } = await load();
      await safe.set(key, value, ttlMs);
      return value;
    },
  };
  return safe;
}

/**
 * Builds a verifier. Throws `ZitauthConfigError` synchronously on a configuration mistake;
 * `await verifier.ready()` then checks what only the IdP can tell (see `readiness.ts`).
 */
export function createVerifier(options: VerifierOptions): ZitauthVerifier {
  const config = resolveOptions(options);
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
  const { check, ready } = createCheck(config, http, policy);
  const roles: RolesSource = createRolesSource(options.roles, config.projectId);
  // The in-process store is read synchronously, so a cached token is answered without
  // a promise; a configured (shared) store is read through promises.
  const front =
    config.cache.store === undefined
      ? createMemoryStore<CachedResult>({ maxEntries: config.cache.maxEntries, now: config.now })
      : undefined;
  const store = safeStore(config.cache.store ?? front!);
  const refusals = createRefusalCache({ ttlMs: config.cache.inactiveTtlMs, now: config.now });
  const prefix = cachePrefix(config);
  const shared = createSingleFlight<CachedResult>();
  const extractOptions: ExtractOptions = {
    transport: config.transport,
    maxTokenBytes: config.maxTokenBytes,
    errors: { realm: config.realm },
  };

  // Hashes of tokens seen active, kept until their exp (past the result cache's shorter
  // TTL): when such a token is introspected again it may use the capacity kept for known
  // callers, which a flood of never-seen tokens cannot take.
  const seen = createMemoryStore<object>({ maxEntries: config.cache.maxEntries, now: config.now });
  const SEEN = Object.freeze({});
  const remember = (key: string, result: CachedResult): void => {
    const ttl = result.active ? Math.min(untilExp(result, config), 86_400_000) : 0;
    if (ttl > 0) seen.set(key, SEEN, ttl);
  };

  async function lookUp(token: string, key: string | undefined): Promise<CachedResult> {
    if (key === undefined) return check(token, false);
    if (front === undefined) {
      const cached = await store.get(key);
      publishCacheLookUp(config.issuer, cached !== undefined);
      if (cached !== undefined) return cached;
    }
    return shared(key, () =>
      store.fill(key, async () => {
        let result: CachedResult;
        try {
          result = await check(token, seen.get(key) !== undefined);
        } catch (error) {
          refusals.remember(key, error);
          throw error;
        }
        remember(key, result);
        return { value: result, ttlMs: ttlOf(result, config) };
      }),
    );
  }

  // The in-memory store hands back the same entry object on every hit, so the frozen
  // AuthContext built for it is reused; entries from a shared store are rebuilt.
  const contexts = new WeakMap<CachedResult, AuthContext>();
  function contextOf(result: CachedResult & { active: true }): AuthContext {
    let context = contexts.get(result);
    if (context === undefined) {
      context = toAuthContext(result.claims, result.kind, roles);
      contexts.set(result, context);
    }
    return context;
  }

  /** Checks a raw token's form; its cache key, or undefined when caching is off. */
  function keyOf(token: string): string | undefined {
    if (typeof token !== 'string' || token === '') {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
    }
    if (Buffer.byteLength(token, 'utf8') > config.maxTokenBytes) {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE');
    }
    return config.cache.enabled ? tokenCacheKey(prefix, token) : undefined;
  }

  function accept(result: CachedResult): AuthContext {
    if (!result.active) throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_INACTIVE');
    // Re-checked on every use: a cached entry must not outlive exp or nbf.
    checkClaims(result.claims, policy, config.now());
    const context = contextOf(result);
    publishVerified(config.issuer, context);
    return context;
  }

  /**
   * The answer memory alone can give (undefined when it needs I/O or a signature). A miss
   * that sends the caller on to `authenticate` is published there, not here
   * (`publishMiss: false`), so a request counts as one look-up.
   */
  function fromMemory(key: string | undefined, publishMiss = true): AuthContext | undefined {
    if (key === undefined || front === undefined) return undefined;
    const cached = front.get(key);
    if (cached !== undefined) {
      publishCacheLookUp(config.issuer, true);
      return accept(cached);
    }
    const refused = refusals.get(key);
    if (refused !== undefined || publishMiss) publishCacheLookUp(config.issuer, false);
    if (refused !== undefined) throw new InvalidTokenError(refused);
    return undefined;
  }

  async function verify(token: string): Promise<AuthContext> {
    try {
      const key = keyOf(token);
      return fromMemory(key) ?? accept(await lookUp(token, key));
    } catch (error) {
      throw refused(error);
    }
  }

  /** A refusal on its way out: the configured realm applied, and published. */
  function refused(error: unknown): unknown {
    if (!(error instanceof ZitauthError)) return error;
    publishRefused(config.issuer, error);
    return error.withRealm(config.realm);
  }

  async function authenticate(
    request: TokenRequest,
    { required = true }: { required?: boolean } = {},
  ): Promise<AuthContext | null> {
    let token: string | undefined;
    try {
      token = extractToken(request, extractOptions);
    } catch (error) {
      throw refused(error);
    }
    if (token !== undefined) return verify(token);
    if (!required) return null;
    throw refused(new UnauthorizedError({ realm: config.realm }));
  }

  function authenticateSync(
    request: TokenRequest,
    { required = true }: { required?: boolean } = {},
  ): AuthContext | null | undefined {
    try {
      const token = extractToken(request, extractOptions);
      if (token !== undefined) return fromMemory(keyOf(token), false);
      if (!required) return null;
      throw new UnauthorizedError({ realm: config.realm });
    } catch (error) {
      throw refused(error);
    }
  }

  return {
    issuer: config.issuer,
    realm: config.realm,
    verify,
    authenticate,
    authenticateSync,
    ready,
    close: () => {
      shutdown.abort();
      http.transport?.close();
    },
  };
}
