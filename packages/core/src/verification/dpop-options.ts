/**
 * The `dpop` option of a verifier, checked where the verifier is built: the mode, the
 * proof algorithms, the URL clients call when a proxy stands in front, a shared replay
 * store and server nonces, each refused with a message that says what to write instead.
 */
import type { NonceOptions } from './dpop-nonce.js';
import { ZitauthConfigError } from '../errors.js';
import type { DpopOptions, DpopReplayStore } from '../types.js';

/** How a verifier treats DPoP: off (bound tokens refused), allowed beside Bearer, or required. */
export type DpopMode = 'off' | 'allowed' | 'required';

/** DPoP settings with every default applied (absent when DPoP is off). */
export interface ResolvedDpop {
  mode: 'allowed' | 'required';
  /** Accepted proof algorithms, in configured order (the challenge's `algs`). */
  algorithms: readonly string[];
  /** Oldest accepted proof `iat`, in milliseconds before now (plus the clock tolerance). */
  maxAgeMs: number;
  /** The origin and path prefix clients use, when a proxy stands in front. */
  externalUrl: string | undefined;
  /** Where proof ids are remembered; undefined for the in-process default. */
  replayStore: DpopReplayStore | undefined;
  /** Server nonces, when on. */
  nonce: NonceOptions | undefined;
}

/** Default `iat` window: a proof is made for one request, right before it. */
export const DEFAULT_PROOF_MAX_AGE_MS = 60_000;

function fail(message: string): never {
  throw new ZitauthConfigError(`zitauth: ${message}`);
}

function resolveAlgorithms(value: unknown, supported: readonly string[]): readonly string[] {
  if (value === undefined) return supported;
  if (!Array.isArray(value) || value.length === 0) {
    fail('dpop.algorithms must be a non-empty array of asymmetric JWS algorithms');
  }
  for (const alg of value as unknown[]) {
    if (typeof alg !== 'string' || !supported.includes(alg)) {
      fail(`dpop.algorithms: "${String(alg).slice(0, 20)}" is not one of ${supported.join(', ')}`);
    }
  }
  return Object.freeze([...(value as string[])]);
}

/** An absolute http(s) URL without query or fragment; its trailing slash dropped. */
function resolveExternalUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (
    url === undefined ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    return fail(
      'dpop.externalUrl must be the absolute URL clients call, e.g. "https://api.example.com" or "https://example.com/api"',
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function resolveReplayStore(value: unknown): DpopReplayStore | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Partial<DpopReplayStore>).setIfAbsent !== 'function'
  ) {
    fail(
      'dpop.replayStore must have setIfAbsent(key, value, ttlMs) (e.g. createRedisKeyValueStore from @zitauth/redis)',
    );
  }
  return value as DpopReplayStore;
}

function resolveNonce(value: unknown): NonceOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (typeof value !== 'object' || value === null) {
    fail('dpop.nonce must be true or { secret?, lifetimeMs? }');
  }
  return value as NonceOptions;
}

/** Validates the `dpop` option; undefined when DPoP is off. */
export function resolveDpop(
  value: DpopMode | DpopOptions | undefined,
  supported: readonly string[],
): ResolvedDpop | undefined {
  if (value === undefined || value === 'off') return undefined;
  const options: DpopOptions = typeof value === 'string' ? { mode: value } : value;
  if (typeof options !== 'object' || options === null) {
    fail('dpop must be "off", "allowed", "required" or { mode, … }');
  }
  if (options.mode === 'off') return undefined;
  if (options.mode !== 'allowed' && options.mode !== 'required') {
    fail('dpop.mode must be "off", "allowed" or "required"');
  }
  const maxAgeMs = options.proofMaxAgeMs ?? DEFAULT_PROOF_MAX_AGE_MS;
  if (typeof maxAgeMs !== 'number' || !Number.isFinite(maxAgeMs) || maxAgeMs <= 0) {
    fail('dpop.proofMaxAgeMs must be a positive number of milliseconds');
  }
  return {
    mode: options.mode,
    algorithms: resolveAlgorithms(options.algorithms, supported),
    maxAgeMs,
    externalUrl: resolveExternalUrl(options.externalUrl),
    replayStore: resolveReplayStore(options.replayStore),
    nonce: resolveNonce(options.nonce),
  };
}
