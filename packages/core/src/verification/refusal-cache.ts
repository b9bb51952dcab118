/**
 * Remembered refusals. A client that keeps sending the same bad token (a retry loop
 * with an expired or mangled token, a forged token replayed) is refused from memory
 * for a few seconds instead of paying a signature check each time, so a refusal costs
 * no more than an acceptance. Only refusals that stay true for that token are kept
 * (bad signature, malformed, expired, wrong issuer or audience, …); a token that may
 * turn valid (not yet valid, unknown key before a rotation) or an IdP outage never is.
 * The cache is small, in-process and apart from the result cache, so a flood of
 * distinct forged tokens cannot push valid entries out: it pays the signature check.
 */
import { LRUCache } from 'lru-cache';
import { InvalidTokenError, type ZitauthErrorCode } from '../errors.js';

/** Refusals that the same token would meet again on any later check. */
const LASTING: ReadonlySet<ZitauthErrorCode> = new Set<ZitauthErrorCode>([
  'ERR_ZITAUTH_TOKEN_MALFORMED',
  'ERR_ZITAUTH_TOKEN_EXPIRED',
  'ERR_ZITAUTH_TOKEN_TOO_OLD',
  'ERR_ZITAUTH_SIGNATURE_INVALID',
  'ERR_ZITAUTH_ALG_NOT_ALLOWED',
  'ERR_ZITAUTH_ISSUER_MISMATCH',
  'ERR_ZITAUTH_AUDIENCE_MISMATCH',
  'ERR_ZITAUTH_CLIENT_NOT_ALLOWED',
  'ERR_ZITAUTH_CLAIM_INVALID',
  'ERR_ZITAUTH_ID_TOKEN',
  'ERR_ZITAUTH_TOKEN_TYPE',
]);

/** Refusals remembered at once; more distinct bad tokens push out the oldest. */
export const REFUSAL_CACHE_ENTRIES = 256;

/** Options of {@link createRefusalCache}. */
export interface RefusalCacheOptions {
  /** How long a refusal is remembered, in milliseconds. */
  ttlMs: number;
  /** Clock in epoch milliseconds. */
  now: () => number;
}

/** A bounded memory of lasting refusals, keyed like the result cache (hashed tokens). */
export interface RefusalCache {
  /** The remembered refusal's code for `key`, if any. */
  get(key: string): ZitauthErrorCode | undefined;
  /** Remembers `error` for `key` when it is a lasting refusal; ignores anything else. */
  remember(key: string, error: unknown): void;
}

/** Builds a refusal cache; with a TTL under 1 ms it remembers nothing. */
export function createRefusalCache(options: RefusalCacheOptions): RefusalCache {
  const ttl = Math.floor(options.ttlMs);
  if (ttl < 1) return { get: () => undefined, remember: () => undefined };
  const lru = new LRUCache<string, ZitauthErrorCode>({
    max: REFUSAL_CACHE_ENTRIES,
    ttl,
    ttlResolution: 0,
    perf: { now: options.now },
  });
  return {
    get: (key) => lru.get(key),
    remember(key, error) {
      if (error instanceof InvalidTokenError && LASTING.has(error.code)) lru.set(key, error.code);
    },
  };
}
