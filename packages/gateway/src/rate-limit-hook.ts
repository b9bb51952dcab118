/**
 * The Fastify side of the rate limiter: an `onRequest` hook keyed by the client address
 * (`request.ip`, which honours `X-Forwarded-For` only from the proxies `trustProxy`
 * names, so a client cannot pick a fresh address per request). IPv6 clients are counted
 * per /64: one subscriber usually holds a whole /64, so single addresses would be an
 * unlimited supply of fresh keys.
 *
 * When the store does not answer, the request goes through and the operator is told
 * (at most once per minute per limiter): an outage of Redis must not lock every user out.
 */
import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from './http-errors.js';
import { createRateLimiter, type RateLimiterOptions } from './rate-limit.js';

const FAIL_OPEN_LOG_INTERVAL_MS = 60_000;

/** The eight 16-bit groups of an IPv6 address (`::` expanded, embedded IPv4 converted). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined): number[] =>
    s === undefined || s === '' ? [] : s.split(':').map((g) => parseInt(g, 16));
  const left = part(head);
  const right = part(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/**
 * The key a client is counted under: an IPv4 address as is (also when IPv4-mapped into
 * IPv6), an IPv6 address by its /64 prefix.
 */
export function clientKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** An `onRequest` hook refusing with 429 past `options.max` requests per window. */
export function rateLimitHook(
  options: RateLimiterOptions,
): (request: FastifyRequest) => Promise<void> {
  const limiter = createRateLimiter(options);
  let lastFailOpenLog = -Infinity;
  return async (request) => {
    let result;
    try {
      result = await limiter.hit(clientKey(request.ip));
    } catch (error) {
      if (Date.now() - lastFailOpenLog >= FAIL_OPEN_LOG_INTERVAL_MS) {
        lastFailOpenLog = Date.now();
        request.log.error(
          { err: error, limiter: options.name },
          'rate limit not enforced: the gateway store is unavailable',
        );
      }
      return;
    }
    if (!result.allowed) {
      request.log.warn({ remoteAddress: request.ip }, 'rate limit reached');
      throw new GatewayError(429, 'rate_limited', 'Too many requests; try again later', {
        'Retry-After': String(result.retryAfterSeconds),
      });
    }
  };
}
