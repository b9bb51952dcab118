/**
 * The IdP's signing keys (JWKS), fetched lazily and kept in memory.
 *
 * Why not jose's `createRemoteJWKSet` alone: it drops to an error as soon as a refetch
 * fails (no stale keys while the IdP is down), reads bodies of any size, has no cooldown
 * after a failed refetch (a flood of tokens with random `kid`s would hammer a sick IdP)
 * and cannot be aborted on shutdown. So this module owns fetching, freshness and
 * refetch policy, and uses jose only to import keys (`importJWK`); which key of a set
 * verifies which token is `jwk.ts`.
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
import type { KeyObject as NodeKeyObject } from 'node:crypto';
import type { CryptoKey, FlattenedJWSInput, JWSHeaderParameters, KeyObject } from 'jose';
import { InvalidTokenError, UpstreamError, ZitauthConfigError } from '../errors.js';
import { cacheControlMaxAge, idpFetch, type HttpOptions } from './http.js';
import {
  importFor,
  keyObjectOf,
  parseKeySet,
  readHeader,
  selectKey,
  selectKeySync,
  type Importer,
  type KeyEntry,
} from './jwk.js';
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
