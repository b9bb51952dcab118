/**
 * What the verifier's cache keeps and for how long: the key prefix that keeps verifiers
 * with different rules apart in a shared store, a lifetime bounded by the cache limit and
 * the token's `exp`, the one object kept per token, and a store wrapper under which a
 * broken shared cache is only a miss.
 */
import { createHash } from 'node:crypto';
import type { CacheFill, CacheStore } from './cache.js';
import type { ResolvedOptions } from './options.js';
import type { AuthContext, CachedResult } from '../types.js';

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
    dpop,
    ...policy
  } = config;
  // The introspection client decides which tokens the IdP reports active; its secret does not.
  const client =
    introspection === undefined
      ? null
      : 'clientId' in introspection
        ? introspection.clientId
        : 'key-file';
  // Only the mode decides whether a bound token may be cached as active; the proof rules
  // run on every request, and the replay store and nonce secret must not be serialized.
  const scope = JSON.stringify(
    dpop === undefined ? { ...policy, client } : { ...policy, client, dpop: dpop.mode },
  );
  return `zitauth:${createHash('sha256').update(scope).digest('base64url').slice(0, 16)}:`;
}

/** Milliseconds until an active result's token expires (0 without `exp`). */
export function untilExp(result: CachedResult & { active: true }, config: ResolvedOptions): number {
  const exp = result.claims['exp'];
  return typeof exp === 'number' ? exp * 1000 - config.now() : 0;
}

/** How long a result may be reused: bounded by the cache limit and by the token's `exp`. */
export function ttlOf(result: CachedResult, config: ResolvedOptions): number {
  if (!result.active) return config.cache.inactiveTtlMs;
  return Math.min(config.cache.maxTtlMs, untilExp(result, config));
}

/** What the in-process store keeps for a token the IdP reports inactive. */
export const INACTIVE = Object.freeze({ inactive: true as const });

/**
 * One object per cached token: its frozen AuthContext (claims included, re-checked on
 * every hit), or INACTIVE. Nothing else is kept per entry, so an entry costs what the
 * caller is handed anyway (see the core README's caching section for the figures).
 */
export type Entry = AuthContext | typeof INACTIVE;

export function isInactive(entry: Entry): entry is typeof INACTIVE {
  return entry === INACTIVE;
}

/** A store that never fails a request: a broken shared cache degrades to a miss. */
export function safeStore(store: CacheStore<CachedResult>) {
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
