/**
 * The Fastify side of the rate limiter: an `onRequest` hook keyed by the client address
 * (`request.ip`, which honours `X-Forwarded-For` only from proxies named in `trustProxy`,
 * so a client cannot pick a fresh address per request).
 */
import type { FastifyRequest } from 'fastify';
import { GatewayError } from './http-errors.js';
import { createRateLimiter, type RateLimiterOptions } from './rate-limit.js';

/** An `onRequest` hook refusing with 429 past `options.max` requests per window. */
export function rateLimitHook(
  options: RateLimiterOptions,
): (request: FastifyRequest) => Promise<void> {
  const limiter = createRateLimiter(options);
  return async (request) => {
    const result = limiter.hit(request.ip);
    if (!result.allowed) {
      request.log.warn({ remoteAddress: request.ip }, 'rate limit reached');
      throw new GatewayError(429, 'rate_limited', 'Too many requests; try again later', {
        'Retry-After': String(result.retryAfterSeconds),
      });
    }
  };
}
