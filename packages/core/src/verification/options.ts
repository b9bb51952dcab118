/**
 * Verifier options are checked once, synchronously, where the verifier is built, and
 * turned into one resolved shape with every default filled in. A mistake throws
 * `ZitauthConfigError` naming the option and what to write instead: an API that starts
 * with a wrong issuer or no audience would otherwise fail on every request, or worse,
 * accept tokens meant for someone else.
 */
import { DEFAULT_REALM, ZitauthConfigError } from '../errors.js';
import { resolveDpop, type ResolvedDpop } from './dpop-options.js';
import { checkIdpUrl as checkUrl, resolveOrigins } from '../idp/idp-url.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_MS, DEFAULT_REQUIRED_CLAIMS } from './local-verifier.js';
import type { FetchLike } from '../idp/http.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import type {
  CacheOptions,
  IntrospectionAuth,
  JwksOptions,
  TokenTransport,
  VerifierOptions,
} from '../types.js';

/** Asymmetric JWS algorithms zitauth accepts; symmetric ones and `none` never. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Every key `createVerifier` reads; any other is refused as a likely typo. */
export const VERIFIER_KEYS = optionKeys<VerifierOptions>({
  issuer: true,
  projectId: true,
  audience: true,
  allowedClientIds: true,
  mode: true,
  introspectJwt: true,
  introspection: true,
  algorithms: true,
  clockToleranceMs: true,
  maxTokenAgeMs: true,
  maxTokenLifetimeMs: true,
  requiredClaims: true,
  maxTokenBytes: true,
  requireJti: true,
  strictJwtProfile: true,
  roles: true,
  tokenTransport: true,
  realm: true,
  cache: true,
  jwks: true,
  endpoints: true,
  endpointOrigins: true,
  circuitBreaker: true,
  timeoutMs: true,
  fetch: true,
  allowInsecureHttp: true,
  now: true,
  dpop: true,
  protectedResource: true,
});

/** The keys of the nested option objects, by the option that holds them. */
const NESTED_KEYS = {
  cache: optionKeys<CacheOptions>({
    store: true,
    maxEntries: true,
    maxTtlMs: true,
    inactiveTtlMs: true,
    maxConcurrentIntrospections: true,
    reservedIntrospections: true,
    enabled: true,
  }),
  jwks: optionKeys<JwksOptions>({
    defaultMaxAgeMs: true,
    minMaxAgeMs: true,
    maxMaxAgeMs: true,
    cooldownMs: true,
    maxStaleMs: true,
    maxResponseBytes: true,
  }),
  endpoints: optionKeys<NonNullable<VerifierOptions['endpoints']>>({
    jwksUri: true,
    introspectionEndpoint: true,
  }),
  tokenTransport: optionKeys<TokenTransport>({ query: true, body: true }),
  circuitBreaker: optionKeys<NonNullable<VerifierOptions['circuitBreaker']>>({
    failureThreshold: true,
    coolOffMs: true,
  }),
  introspection: ['clientId', 'clientSecret', 'keyFile'],
} as const;

/** Refuses unknown keys at the top level and in every nested options object. */
function checkKeys(options: VerifierOptions): void {
  checkOptionKeys(options, VERIFIER_KEYS, 'createVerifier options');
  for (const [name, known] of Object.entries(NESTED_KEYS)) {
    checkOptionKeys(options[name as keyof typeof NESTED_KEYS], known, name);
  }
}

/** Options with every default applied. */
export interface ResolvedOptions {
  issuer: string;
  audiences: readonly string[];
  projectId: string | undefined;
  allowedClientIds: readonly string[] | undefined;
  mode: 'auto' | 'jwt' | 'introspect';
  introspectJwt: boolean;
  introspection: IntrospectionAuth | undefined;
  algorithms: readonly string[];
  clockToleranceMs: number;
  maxTokenAgeMs: number | undefined;
  maxTokenLifetimeMs: number;
  requiredClaims: readonly string[];
  maxTokenBytes: number;
  strictJwtProfile: boolean;
  requireJti: boolean;
  transport: { query: boolean; body: boolean };
  realm: string;
  cache: Required<Omit<CacheOptions, 'store'>> & { store: CacheOptions['store'] | undefined };
  /** Passed to the key set, which fills its defaults and checks them. */
  jwks: JwksOptions;
  jwksUri: string | undefined;
  introspectionEndpoint: string | undefined;
  endpointOrigins: readonly string[];
  allowInsecureHttp: boolean;
  circuitBreaker: { failureThreshold: number; coolOffMs: number };
  timeoutMs: number;
  fetch: FetchLike | undefined;
  now: () => number;
  /** DPoP settings; undefined when DPoP is off. */
  dpop: ResolvedDpop | undefined;
}

function fail(message: string): never {
  throw new ZitauthConfigError(`zitauth: ${message}`);
}

function duration(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`${name} must be a finite number of milliseconds ≥ 0`);
  }
  return value;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    fail(`${name} must be a whole number ≥ 1`);
  }
  return value;
}

function stringList(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((v) => typeof v !== 'string' || v === '')
  ) {
    fail(`${name} must be a non-empty string or a non-empty array of non-empty strings`);
  }
  return Object.freeze([...(list as string[])]);
}

function resolveAudiences(options: VerifierOptions): readonly string[] {
  if (
    options.projectId !== undefined &&
    (typeof options.projectId !== 'string' || options.projectId === '')
  ) {
    fail('projectId must be a non-empty string (the resource id of your ZITADEL project)');
  }
  const audiences = stringList(options.audience, 'audience');
  if (audiences !== undefined) return audiences;
  if (options.projectId !== undefined) return Object.freeze([options.projectId]);
  return fail(
    'set projectId (your ZITADEL project id) or audience: without one, tokens meant for other APIs would be accepted',
  );
}

function resolveIntrospection(options: VerifierOptions): IntrospectionAuth | undefined {
  const auth = options.introspection;
  if (auth === undefined) {
    if (options.mode === 'introspect' || options.introspectJwt === true) {
      fail(
        'introspection credentials are required with mode "introspect" or introspectJwt: set introspection: { clientId, clientSecret } or { keyFile }',
      );
    }
    return undefined;
  }
  if (typeof auth !== 'object' || auth === null)
    fail('introspection must be { clientId, clientSecret } or { keyFile }');
  if ('keyFile' in auth) {
    if ('clientId' in auth || 'clientSecret' in auth) {
      fail('introspection takes either { keyFile } or { clientId, clientSecret }, not both');
    }
    return auth;
  }
  if (
    typeof auth.clientId !== 'string' ||
    auth.clientId === '' ||
    typeof auth.clientSecret !== 'string' ||
    auth.clientSecret === ''
  ) {
    fail(
      'introspection needs a non-empty clientId and clientSecret (from your API application), or a keyFile',
    );
  }
  return auth;
}

function resolveAlgorithms(value: unknown): readonly string[] {
  const list = stringList(value, 'algorithms') ?? ASYMMETRIC_ALGORITHMS;
  for (const alg of list) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(
        `algorithm "${alg.slice(0, 20)}" is not allowed; use asymmetric ones: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
      );
    }
  }
  return list;
}

function resolveRequiredClaims(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_REQUIRED_CLAIMS;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    fail('requiredClaims must be an array of claim names, e.g. ["iat"] ([] requires none)');
  }
  return Object.freeze([...(value as string[])]);
}

function resolveCache(cache: CacheOptions = {}): ResolvedOptions['cache'] {
  return {
    store: cache.store,
    enabled: cache.enabled ?? true,
    maxEntries: positiveInt(cache.maxEntries, 'cache.maxEntries', 10_000),
    maxTtlMs: duration(cache.maxTtlMs, 'cache.maxTtlMs', 60_000),
    inactiveTtlMs: duration(cache.inactiveTtlMs, 'cache.inactiveTtlMs', 5_000),
    maxConcurrentIntrospections: positiveInt(
      cache.maxConcurrentIntrospections,
      'cache.maxConcurrentIntrospections',
      64,
    ),
    reservedIntrospections:
      cache.reservedIntrospections === undefined
        ? Math.floor((cache.maxConcurrentIntrospections ?? 64) / 4)
        : wholeNumber(cache.reservedIntrospections, 'cache.reservedIntrospections'),
  };
}

function wholeNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail(`${name} must be a whole number ≥ 0`);
  }
  return value;
}

function resolveCircuitBreaker(value: VerifierOptions['circuitBreaker']) {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    fail('circuitBreaker must be { failureThreshold?, coolOffMs? }');
  }
  return {
    failureThreshold: positiveInt(value?.failureThreshold, 'circuitBreaker.failureThreshold', 5),
    coolOffMs: duration(value?.coolOffMs, 'circuitBreaker.coolOffMs', 10_000),
  };
}

function booleanFlag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`${name} must be true or false`);
  return value;
}

function resolveMode(value: unknown): ResolvedOptions['mode'] {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'jwt' || value === 'introspect') return value;
  return fail('mode must be "auto", "jwt" or "introspect"');
}

function resolveRealm(value: unknown): string {
  if (value === undefined) return DEFAULT_REALM;
  if (typeof value !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
    fail('realm must be a non-empty string of printable ASCII without quotes or backslashes');
  }
  return value;
}

/** Validates `options` and fills in defaults; throws `ZitauthConfigError` on a mistake. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    fail('createVerifier needs an options object with at least issuer and projectId');
  if ('issuers' in options) {
    fail(
      'several issuers need createMultiIssuerVerifier({ issuers }); createVerifier trusts one issuer',
    );
  }
  checkKeys(options);
  const allowHttp = options.allowInsecureHttp === true;
  const endpoints = options.endpoints ?? {};
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    fail('fetch must be a function');
  if (options.now !== undefined && typeof options.now !== 'function')
    fail('now must be a function returning epoch milliseconds');
  if (
    options.roles !== undefined &&
    typeof options.roles !== 'string' &&
    typeof options.roles !== 'function'
  ) {
    fail('roles must be a claim name or a function (claims) => roles');
  }
  return {
    issuer: checkUrl(options.issuer, 'issuer', allowHttp),
    audiences: resolveAudiences(options),
    projectId: options.projectId,
    allowedClientIds: stringList(options.allowedClientIds, 'allowedClientIds'),
    mode: resolveMode(options.mode),
    introspectJwt: options.introspectJwt === true,
    introspection: resolveIntrospection(options),
    algorithms: resolveAlgorithms(options.algorithms),
    clockToleranceMs: duration(options.clockToleranceMs, 'clockToleranceMs', 5_000),
    maxTokenAgeMs:
      options.maxTokenAgeMs === undefined
        ? undefined
        : duration(options.maxTokenAgeMs, 'maxTokenAgeMs', 0),
    maxTokenLifetimeMs: duration(
      options.maxTokenLifetimeMs,
      'maxTokenLifetimeMs',
      DEFAULT_MAX_TOKEN_LIFETIME_MS,
    ),
    requiredClaims: resolveRequiredClaims(options.requiredClaims),
    maxTokenBytes: positiveInt(options.maxTokenBytes, 'maxTokenBytes', 8_192),
    strictJwtProfile: options.strictJwtProfile === true,
    requireJti: booleanFlag(options.requireJti, 'requireJti', true),
    transport: {
      query: options.tokenTransport?.query === true,
      body: options.tokenTransport?.body === true,
    },
    realm: resolveRealm(options.realm),
    cache: resolveCache(options.cache),
    jwks: options.jwks ?? {},
    jwksUri:
      endpoints.jwksUri === undefined
        ? undefined
        : checkUrl(endpoints.jwksUri, 'endpoints.jwksUri', allowHttp),
    introspectionEndpoint:
      endpoints.introspectionEndpoint === undefined
        ? undefined
        : checkUrl(endpoints.introspectionEndpoint, 'endpoints.introspectionEndpoint', allowHttp),
    endpointOrigins: resolveOrigins(options.endpointOrigins, allowHttp),
    allowInsecureHttp: allowHttp,
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker),
    timeoutMs: positiveInt(options.timeoutMs, 'timeoutMs', 5_000),
    fetch: options.fetch,
    now: options.now ?? Date.now,
    dpop: resolveDpop(options.dpop, ASYMMETRIC_ALGORITHMS),
  };
}
