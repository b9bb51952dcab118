/**
 * The refusal cache: which refusals are remembered (only those the same token meets
 * again), for how long (the injected clock), and how many (a bounded LRU).
 */
import { describe, expect, it } from 'vitest';
import { InvalidTokenError, UpstreamError } from '../../src/errors.js';
import { REFUSAL_CACHE_ENTRIES, createRefusalCache } from '../../src/verification/refusal-cache.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('createRefusalCache', () => {
  it('remembers a lasting refusal for its TTL', () => {
    const time = clock();
    const cache = createRefusalCache({ ttlMs: 5_000, now: time.now });
    cache.remember('k', new InvalidTokenError('ERR_ZITAUTH_SIGNATURE_INVALID'));
    expect(cache.get('k')).toBe('ERR_ZITAUTH_SIGNATURE_INVALID');
    time.advance(4_999);
    expect(cache.get('k')).toBe('ERR_ZITAUTH_SIGNATURE_INVALID');
    time.advance(2);
    expect(cache.get('k')).toBeUndefined();
  });

  it.each([
    ['a not yet valid token', new InvalidTokenError('ERR_ZITAUTH_TOKEN_NOT_YET_VALID')],
    ['an unknown key', new InvalidTokenError('ERR_ZITAUTH_KEY_NOT_FOUND')],
    ['an inactive token', new InvalidTokenError('ERR_ZITAUTH_TOKEN_INACTIVE')],
    ['an IdP outage', new UpstreamError()],
    ['a programming error', new TypeError('boom')],
  ])('never remembers %s', (_name, error) => {
    const cache = createRefusalCache({ ttlMs: 5_000, now: clock().now });
    cache.remember('k', error);
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps at most its bound, dropping the oldest', () => {
    const cache = createRefusalCache({ ttlMs: 5_000, now: clock().now });
    for (let i = 0; i <= REFUSAL_CACHE_ENTRIES; i += 1) {
      cache.remember(`k${i}`, new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED'));
    }
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get(`k${REFUSAL_CACHE_ENTRIES}`)).toBe('ERR_ZITAUTH_TOKEN_MALFORMED');
  });

  it('remembers nothing when the TTL is zero', () => {
    const cache = createRefusalCache({ ttlMs: 0, now: clock().now });
    cache.remember('k', new InvalidTokenError('ERR_ZITAUTH_SIGNATURE_INVALID'));
    expect(cache.get('k')).toBeUndefined();
  });
});
