/**
 * The IdP's signing keys (JWKS), fetched lazily and kept in memory.
 *
 * Why not jose's `createRemoteJWKSet` alone: it drops to an error as soon as a refetch
 * fails (no stale keys while the IdP is down), reads bodies of any size, has no cooldown
 * after a failed refetch (a flood of tokens with random `kid`s would hammer a sick IdP)
 * and cannot be aborted on shutdown. So this module owns fetching, freshness and
 * refetch policy, and uses jose only to import keys (`importJWK`).
 *
 * Rules:
 * - Freshness follows the response's `Cache-Control: max-age`, clamped to
 *   [minMaxAgeMs, maxMaxAgeMs]; fresh keys are served without any fetch.
 * - One fetch is in flight at a time; every concurrent caller shares it.
 * - An unknown `kid` refetches at most once per `cooldownMs` after the last fetch, and
 *   no fetch at all is tried within min(`cooldownMs`, 5 s) of a failed one.
 * - Stale keys are served at once while one refresh runs in the background, so an IdP
 *   hang costs no request a wait for a key it already knows.
 * - When the IdP is down, the last good keys are served for up to `maxStaleMs` after
 *   they went stale. Without usable keys the caller gets `UpstreamError`, never
 *   `invalid_token`: a healthy token must not look bad because the IdP is down.
 */
import { createPublicKey, type JsonWebKey, type KeyObject as NodeKeyObject } from 'node:crypto';
import {
  importJWK,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWK,
  type JWSHeaderParameters,
  type KeyObject,
} from 'jose';
import { InvalidTokenError, UpstreamError, ZitauthConfigError } from '../errors.js';
import { cacheControlMaxAge, idpFetch, parseJsonObject, type HttpOptions } from './http.js';
import { traceIdpCall } from '../observability/idp-calls.js';
import { describeCause, upstreamFault } from '../observability/operator-fault.js';
import type { JwksOptions } from '../types.js';

/** Options of {@link createKeySet}. */
export interface KeySetOptions extends JwksOptions {
  /** Resolves the key set URL (from discovery or an override); called before each fetch. */
  jwksUri: () => Promise<string>;
  /** Fetch, timeout and shutdown signal shared with the owner's other IdP calls. */
  http: HttpOptions;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** Verification keys of one IdP. */
export interface KeySet {
  /** A jose-compatible key resolver: pass it straight to `jwtVerify` or `compactVerify`. */
  getKey: (
    protectedHeader: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => Promise<CryptoKey | KeyObject>;
  /**
   * The same key as `getKey` (same selection, refetch and stale rules) as a `node:crypto`
   * `KeyObject`, built once per key, for the synchronous signature check.
   */
  getKeyObject: (protectedHeader: JWSHeaderParameters) => Promise<NodeKeyObject>;
  /**
   * The `KeyObject` `getKeyObject` would give when fresh keys in memory hold it; undefined
   * when finding it needs I/O (no keys yet, stale keys, an unknown `kid`): then call
   * `getKeyObject`. Throws, as `getKeyObject` rejects, for a header no key could verify.
   */
  peekKeyObject?: (protectedHeader: JWSHeaderParameters) => NodeKeyObject | undefined;
  /** Fetches the key set now (sharing a fetch already in flight). Rejects with `UpstreamError`. */
  refresh(): Promise<void>;
}

export const DEFAULT_JWKS_MAX_RESPONSE_BYTES = 256 * 1024;

/** Longest wait after a failed fetch before the next try, in milliseconds. */
export const FAILURE_BACKOFF_MS = 5_000;

/** The key types (and curves) each supported asymmetric JWS algorithm verifies with. */
const KEY_TYPES: Readonly<Record<string, { kty: string; crv?: readonly string[] }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: ['P-256'] },
  ES384: { kty: 'EC', crv: ['P-384'] },
  ES512: { kty: 'EC', crv: ['P-521'] },
  // jose verifies EdDSA with Ed25519 only; Ed448 keys would fail to import.
  EdDSA: { kty: 'OKP', crv: ['Ed25519'] },
  Ed25519: { kty: 'OKP', crv: ['Ed25519'] },
};

/** True for the asymmetric JWS algorithms a key set can verify. */
export function isSupportedAlgorithm(alg: unknown): alg is string {
  return typeof alg === 'string' && Object.hasOwn(KEY_TYPES, alg);
}

/** One usable public key, with its imports per algorithm memoised. */
interface KeyEntry {
  readonly jwk: JWK;
  readonly imports: Map<string, Promise<CryptoKey | undefined>>;
  /** The `node:crypto` key, built on first use; null when it cannot be built. */
  keyObject?: NodeKeyObject | null;
}

/** How a selected entry becomes a usable key of one kind; undefined skips the entry. */
type Importer<K> = (entry: KeyEntry, alg: string) => K | undefined | Promise<K | undefined>;

/** One successfully fetched key set. */
interface Snapshot {
  readonly keys: readonly KeyEntry[];
  /** Epoch ms until which the keys are fresh (served without a fetch). */
  readonly freshUntil: number;
}

interface Settings {
  defaultMaxAgeMs: number;
  minMaxAgeMs: number;
  maxMaxAgeMs: number;
  cooldownMs: number;
  maxStaleMs: number;
  maxResponseBytes: number;
}

/** Fills defaults and refuses nonsense at construction time. */
function settings(options: JwksOptions): Settings {
  const result: Settings = {
    defaultMaxAgeMs: options.defaultMaxAgeMs ?? 300_000,
    minMaxAgeMs: options.minMaxAgeMs ?? 30_000,
    maxMaxAgeMs: options.maxMaxAgeMs ?? 86_400_000,
    cooldownMs: options.cooldownMs ?? 30_000,
    maxStaleMs: options.maxStaleMs ?? 43_200_000,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_JWKS_MAX_RESPONSE_BYTES,
  };
  for (const [name, value] of Object.entries(result)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ZitauthConfigError(`zitauth: jwks.${name} must be a finite number of at least 0`);
    }
  }
  if (result.minMaxAgeMs > result.maxMaxAgeMs) {
    throw new ZitauthConfigError('zitauth: jwks.minMaxAgeMs must not exceed jwks.maxMaxAgeMs');
  }
  if (result.maxResponseBytes < 1) {
    throw new ZitauthConfigError('zitauth: jwks.maxResponseBytes must be at least 1');
  }
  return result;
}

/**
 * Whether one JWKS entry can ever verify a signature. Symmetric (`oct`) keys are never
 * used: a verifier that accepts them lets anyone who knows the "public" key forge tokens.
 * Entries carrying private material are refused too: a key set that publishes them is
 * broken, and its keys should not be trusted.
 */
function isUsableJwk(value: unknown): value is JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as Record<string, unknown>;
  if (jwk['kty'] !== 'RSA' && jwk['kty'] !== 'EC' && jwk['kty'] !== 'OKP') return false;
  if (jwk['d'] !== undefined) return false;
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return false;
  if (jwk['kid'] !== undefined && typeof jwk['kid'] !== 'string') return false;
  if (jwk['alg'] !== undefined && typeof jwk['alg'] !== 'string') return false;
  try {
    // One broken key must not take the whole set down: drop it here instead. RSA keys
    // under 2048 bits are dropped too, since jose refuses to verify with them anyway.
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return (
      key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
    );
  } catch {
    return false;
  }
}

/** Parses a JWKS body into usable keys; a body that is not a key set is an IdP fault. */
export function parseKeySet(body: string): JWK[] {
  const document = parseJsonObject(body);
  const keys = document['keys'];
  if (!Array.isArray(keys)) {
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the key set has no "keys" array'),
    });
  }
  const usable = keys.filter(isUsableJwk);
  if (usable.length === 0) {
    // Keep serving the last good keys rather than replace them with an empty set.
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the key set holds no usable signing key'),
    });
  }
  return usable;
}

/** Whether `jwk` may verify a token signed with `alg` (key type, curve, `alg` of the JWK). */
function fitsAlgorithm(jwk: JWK, alg: string): boolean {
  const want = KEY_TYPES[alg];
  if (want === undefined || jwk.kty !== want.kty) return false;
  if (want.crv !== undefined && (jwk.crv === undefined || !want.crv.includes(jwk.crv))) {
    return false;
  }
  return jwk.alg === undefined || jwk.alg === alg;
}

/** Imports a key once per algorithm; a key that fails to import is skipped, not fatal. */
function importFor(entry: KeyEntry, alg: string): Promise<CryptoKey | undefined> {
  let imported = entry.imports.get(alg);
  if (imported === undefined) {
    imported = importJWK(entry.jwk, alg).then(
      (key) => (key instanceof Uint8Array ? undefined : key),
      () => undefined,
    );
    entry.imports.set(alg, imported);
  }
  return imported;
}

/** The entry's `KeyObject`, built once; a key that cannot be built is skipped, not fatal. */
function keyObjectOf(entry: KeyEntry): NodeKeyObject | undefined {
  if (entry.keyObject === undefined) {
    try {
      entry.keyObject = createPublicKey({ key: entry.jwk as JsonWebKey, format: 'jwk' });
    } catch {
      entry.keyObject = null;
    }
  }
  return entry.keyObject ?? undefined;
}

/**
 * Picks the key for a token among its candidates ({@link candidatesFor}): the first one
 * `load` can use.
 */
async function selectKey<K>(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
  load: Importer<K>,
): Promise<K | undefined> {
  const candidates = candidatesFor(keys, alg, kid);
  for (const entry of candidates) {
    const key = await load(entry, alg);
    if (key !== undefined) return key;
  }
  return undefined;
}

/**
 * The keys that may verify a token: by `kid` when the token names one; without a `kid`,
 * only when exactly one key fits the algorithm (guessing among several would be arbitrary).
 */
function candidatesFor(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
): readonly KeyEntry[] {
  const candidates = keys.filter(
    (entry) => fitsAlgorithm(entry.jwk, alg) && (kid === undefined || entry.jwk.kid === kid),
  );
  return kid === undefined && candidates.length !== 1 ? [] : candidates;
}

/** {@link selectKey} with the `node:crypto` importer, which needs no promise. */
function selectKeySync(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
): NodeKeyObject | undefined {
  for (const entry of candidatesFor(keys, alg, kid)) {
    const key = keyObjectOf(entry);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** Reads `alg` and `kid` from an unverified header; refuses what no key could verify. */
function readHeader(header: JWSHeaderParameters): { alg: string; kid: string | undefined } {
  const { alg, kid } = header;
  if (!isSupportedAlgorithm(alg)) throw new InvalidTokenError('ERR_ZITAUTH_ALG_NOT_ALLOWED');
  if (kid !== undefined && typeof kid !== 'string') {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
  return { alg, kid };
}

/**
 * A new `UpstreamError` for each caller, keeping a timeout's code: one failed fetch is
 * seen by many requests, and an error object must not be shared between responses.
 */
function upstreamFailure(error: unknown): UpstreamError {
  const timedOut = error instanceof UpstreamError && error.code === 'ERR_ZITAUTH_UPSTREAM_TIMEOUT';
  return new UpstreamError(timedOut ? 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' : 'ERR_ZITAUTH_UPSTREAM', {
    cause: error,
  });
}

/**
 * Mutable state of one key set. Every fetch decision reads it, so the rules stay in
 * small functions below instead of one long closure.
 */
interface State {
  readonly config: Settings;
  readonly jwksUri: () => Promise<string>;
  readonly http: HttpOptions;
  readonly now: () => number;
  /** The last good keys. */
  snapshot: Snapshot | undefined;
  /** The fetch in flight, shared by every caller. */
  pending: Promise<Snapshot> | undefined;
  /** When the latest fetch started (the kid-miss cooldown counts from here). */
  lastFetchAt: number;
  /** The latest fetch's failure, until a fetch succeeds. */
  failure: { error: unknown; retryAt: number } | undefined;
}

/** Freshness of a response in milliseconds: `Cache-Control` max-age, clamped. */
function freshnessMs(config: Settings, cacheControl: string | null): number {
  const seconds = cacheControlMaxAge(cacheControl);
  const wanted = seconds === undefined ? config.defaultMaxAgeMs : seconds * 1000;
  return Math.min(config.maxMaxAgeMs, Math.max(config.minMaxAgeMs, wanted));
}

async function load(state: State): Promise<Snapshot> {
  const url = await state.jwksUri();
  try {
    return await traceIdpCall('keys', url, async (note) => {
      const response = await idpFetch(
        url,
        { headers: { accept: 'application/jwk-set+json, application/json' } },
        state.http,
      );
      note.status = response.status;
      if (response.status !== 200) {
        throw new Error(`the key set endpoint answered HTTP ${response.status}`);
      }
      const keys = parseKeySet(response.body).map((jwk) => ({ jwk, imports: new Map() }));
      const freshFor = freshnessMs(state.config, response.headers.get('cache-control'));
      return { keys, freshUntil: state.now() + freshFor };
    });
  } catch (error) {
    throw keysUnreachable(url, error);
  }
}

/** The key set could not be read: an operator fault, kept as the cause of the 503. */
function keysUnreachable(url: string, error: unknown): UpstreamError {
  return upstreamFault(
    'keys-unreachable',
    `zitauth: the key set at ${url} could not be read (${describeCause(error)}); ` +
      'tokens cannot be verified until it can: check that the IdP is reachable from here',
    error,
  );
}

/** Starts a fetch, or joins the one in flight. Rejects with the raw failure. */
function fetchShared(state: State): Promise<Snapshot> {
  if (state.pending !== undefined) return state.pending;
  state.lastFetchAt = state.now();
  const settle = (): void => {
    state.pending = undefined;
  };
  state.pending = load(state).then(
    (loaded) => {
      settle();
      state.snapshot = loaded;
      state.failure = undefined;
      return loaded;
    },
    (error: unknown) => {
      settle();
      // Retry sooner than the kid cooldown: an API that starts while the IdP is briefly
      // down should recover within seconds, yet a sick IdP still sees one call per backoff.
      const backoff = Math.min(state.config.cooldownMs, FAILURE_BACKOFF_MS);
      state.failure = { error, retryAt: state.now() + backoff };
      throw error;
    },
  );
  return state.pending;
}

/** {@link fetchShared}, failing with this caller's own `UpstreamError`. */
async function fetchOwn(state: State): Promise<Snapshot> {
  try {
    return await fetchShared(state);
  } catch (error) {
    throw upstreamFailure(error);
  }
}

/** The last good keys while within `maxStaleMs` of going stale; otherwise the failure. */
function staleOr(state: State, error: unknown): Snapshot {
  const { snapshot } = state;
  if (snapshot !== undefined && state.now() < snapshot.freshUntil + state.config.maxStaleMs) {
    return snapshot;
  }
  throw upstreamFailure(error);
}

/**
 * The keys to use now. Fresh keys are served as they are. Stale keys (within
 * `maxStaleMs`) are served at once too, while one refresh runs in the background
 * (stale-while-revalidate): during an IdP hang no request waits for a key it already
 * knows; only an unknown `kid` may wait, bounded by the cooldown and the timeout. Without
 * any usable keys the caller waits for the fetch (or gets the recent failure at once).
 */
async function currentKeys(state: State): Promise<Snapshot> {
  const { snapshot, failure } = state;
  const now = state.now();
  if (snapshot !== undefined && now < snapshot.freshUntil) return snapshot;
  const backingOff = failure !== undefined && now < failure.retryAt;
  if (snapshot !== undefined && now < snapshot.freshUntil + state.config.maxStaleMs) {
    // The outcome is recorded in the state; this caller needs nothing from it.
    if (state.pending === undefined && !backingOff) fetchShared(state).catch(() => undefined);
    return snapshot;
  }
  if (state.pending === undefined && backingOff) return staleOr(state, failure.error);
  try {
    return await fetchShared(state);
  } catch (error) {
    return staleOr(state, error);
  }
}

/**
 * After a `kid` miss: the refetched keys, or undefined when the cooldown forbids a
 * refetch. If the latest fetch failed we cannot tell a rotated key from a bogus one,
 * so that is an upstream failure, not a bad token.
 */
async function keysAfterMiss(state: State): Promise<Snapshot | undefined> {
  const { failure } = state;
  const coolingDown =
    state.now() < state.lastFetchAt + state.config.cooldownMs ||
    (failure !== undefined && state.now() < failure.retryAt);
  if (state.pending === undefined && coolingDown) {
    if (failure !== undefined) throw upstreamFailure(failure.error);
    return undefined;
  }
  return fetchOwn(state);
}

async function getKey<K>(state: State, header: JWSHeaderParameters, load: Importer<K>): Promise<K> {
  const { alg, kid } = readHeader(header);
  const first = await selectKey((await currentKeys(state)).keys, alg, kid, load);
  if (first !== undefined) return first;
  const refetched = await keysAfterMiss(state);
  const second =
    refetched === undefined ? undefined : await selectKey(refetched.keys, alg, kid, load);
  if (second === undefined) throw new InvalidTokenError('ERR_ZITAUTH_KEY_NOT_FOUND');
  return second;
}

/**
 * Creates a key set. Nothing is fetched until the first token needs a key. Throws
 * `ZitauthConfigError` for invalid durations or sizes.
 */
export function createKeySet(options: KeySetOptions): KeySet {
  const config = settings(options);
  const state: State = {
    config,
    jwksUri: options.jwksUri,
    // The key set's own cap wins over the general one: key sets are small.
    http: { ...options.http, maxResponseBytes: config.maxResponseBytes },
    now: options.now ?? Date.now,
    snapshot: undefined,
    pending: undefined,
    lastFetchAt: -Infinity,
    failure: undefined,
  };
  return {
    getKey: (header) => getKey(state, header, importFor),
    getKeyObject: (header) => getKey(state, header, keyObjectOf),
    peekKeyObject: (header) => {
      const { alg, kid } = readHeader(header);
      const { snapshot } = state;
      if (snapshot === undefined || state.now() >= snapshot.freshUntil) return undefined;
      return selectKeySync(snapshot.keys, alg, kid);
    },
    refresh: async () => {
      await fetchOwn(state);
    },
  };
}
