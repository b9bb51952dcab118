/** The fixed-window limiter: counting per key, window reset, bounded memory. */
import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/rate-limit.js';

describe('createRateLimiter', () => {
  it('allows max requests per window, then refuses with the seconds left', () => {
    let now = 0;
    const limiter = createRateLimiter({ max: 2, windowMs: 10_000, now: () => now });
    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('a').allowed).toBe(true);
    now = 2_500;
    expect(limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect(limiter.hit('b').allowed).toBe(true);
  });

  it('starts a fresh window when the old one ends', () => {
    let now = 0;
    const limiter = createRateLimiter({ max: 1, windowMs: 1000, now: () => now });
    limiter.hit('a');
    expect(limiter.hit('a').allowed).toBe(false);
    now = 1000;
    expect(limiter.hit('a').allowed).toBe(true);
  });

  it('tracks at most maxClients keys, dropping the oldest window', () => {
    const limiter = createRateLimiter({ max: 1, maxClients: 2, now: () => 0 });
    limiter.hit('a');
    limiter.hit('b');
    limiter.hit('c');
    // "a" was dropped to make room, so it starts over.
    expect(limiter.hit('a').allowed).toBe(true);
    expect(limiter.hit('c').allowed).toBe(false);
  });

  it('never reports less than one second to wait', () => {
    let now = 0;
    const limiter = createRateLimiter({ max: 0, windowMs: 1000, now: () => now });
    now = 0;
    limiter.hit('a');
    now = 999;
    expect(limiter.hit('a').retryAfterSeconds).toBe(1);
  });
});
