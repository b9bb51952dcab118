/**
 * The uncached check of one token, routed by its form and the configured mode: a compact
 * JWS is verified locally (and, with `introspectJwt`, also introspected), anything else
 * is introspected when credentials are configured. Also the start-up check of the same
 * IdP parts, and the synchronous form a JWT takes once its keys are in memory.
 */
import { checkClaims, type ClaimPolicy } from './claim-checks.js';
import { createDiscovery } from '../idp/discovery.js';
import { InvalidTokenError, ZitauthError } from '../errors.js';
import type { HttpOptions } from '../idp/http.js';
import { createIntrospector, type Introspector } from './introspection.js';
import { createKeySet, type KeySet } from '../idp/key-set.js';
import { looksLikeJws } from './jwt-shape.js';
import { createLocalVerifier, type LocalVerify } from './local-verifier.js';
import type { ResolvedOptions } from './options.js';
import { createReadinessCheck } from './readiness.js';
import type { CachedResult } from '../types.js';

/**
 * A token in the form of a compact JWS (three segments, the first a JSON header), so it
 * is verified as a JWT: one that is not canonical base64url is then refused as
 * malformed rather than sent to introspection as if it were opaque.
 */
export function isCompactJws(token: string): boolean {
  return looksLikeJws(token);
}

/** The uncached check of one token; `known` when it was seen active before. */
export type Check = (token: string, known: boolean) => Promise<CachedResult>;

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
    dpopBinding: config.dpop !== undefined,
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
    dpopBinding: config.dpop !== undefined,
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
export function createCheck(
  config: ResolvedOptions,
  http: HttpOptions,
  policy: ClaimPolicy,
): { check: Check; checkSync: CheckSync; ready: () => Promise<void> } {
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
  // A JWT checked locally needs no I/O once the keys are in memory: no promise then.
  const verifyJwtSync = config.introspectJwt ? undefined : verifyJwt?.sync;
  const checkSync: CheckSync = (token) => {
    if (verifyJwtSync === undefined || !isCompactJws(token)) return undefined;
    const claims = verifyJwtSync(token);
    if (claims === undefined || claims instanceof ZitauthError) return claims;
    return { active: true, kind: 'jwt', claims };
  };
  return { check, checkSync, ready };
}

/**
 * {@link Check} when it needs no I/O: the result, the token's refusal (returned), or
 * undefined (use `check`).
 */
export type CheckSync = (token: string) => CachedResult | ZitauthError | undefined;
