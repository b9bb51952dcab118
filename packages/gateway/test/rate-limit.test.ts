/**
 * The fixed-window limiter and its hook: counting per key in clock-aligned windows, IPv6
 * counted per /64, limits shared by two gateways on one real redis-server, and failing
 * open (with an operator log) when Redis is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createGateway, createMemoryStore, type GatewayOptions } from '@zitauth/gateway';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { LONG_WINDOW_MS } from './helpers.js';
import { startRedisServer, type RedisServer } from '../../redis/test/redis-server.js';
import { createRateLimiter } from '../src/rate-limit.js';
import { clientKey } from '../src/rate-limit-hook.js';

describe('createRateLimiter', () => {
  it('allows max requests per window, then refuses with the seconds left', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const limiter = createRateLimiter({
      store,
      name: 't',
      max: 2,
      windowMs: 10_000,
      now: () => now,
    });
    expect((await limiter.hit('a')).allowed).toBe(true);
    expect((await limiter.hit('a')).allowed).toBe(true);
    now = 2_500;
    expect(await limiter.hit('a')).toEqual({ allowed: false, retryAfterSeconds: 8 });
    expect((await limiter.hit('b')).allowed).toBe(true);
  });

  it('starts a fresh window when the clock-aligned one ends', async () => {
    let now = 500;
    const store = createMemoryStore({ now: () => now });
    const limiter = createRateLimiter({ store, name: 't', max: 1, windowMs: 1000, now: () => now });
    await limiter.hit('a');
    expect((await limiter.hit('a')).allowed).toBe(false);
    now = 1000;
    expect((await limiter.hit('a')).allowed).toBe(true);
  });

  it('keeps separate counts per limiter name', async () => {
    const store = createMemoryStore();
    const login = createRateLimiter({ store, name: 'login', max: 1 });
    const token = createRateLimiter({ store, name: 'token', max: 1 });
    await login.hit('a');
    expect((await token.hit('a')).allowed).toBe(true);
  });

  it('never reports less than one second to wait', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const limiter = createRateLimiter({ store, name: 't', max: 0, windowMs: 1000, now: () => now });
    now = 999;
    expect((await limiter.hit('a')).retryAfterSeconds).toBe(1);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('counts %s as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe('rate limits of a fleet (two gateways, one redis-server)', () => {
  let idp: TestIdp;
  let redis: RedisServer;
  let gateways: FastifyInstance[];
  const logs: string[] = [];

  beforeAll(async () => {
    [idp, redis] = await Promise.all([startTestIdp(), startRedisServer()]);
    const options: GatewayOptions = {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      publicUrl: 'http://gateway.test',
      allowedOrigins: ['http://app.test'],
      trustProxy: 1,
      rateLimit: { login: 3, windowMs: LONG_WINDOW_MS },
      redis: { url: redis.url, connectTimeoutMs: 10_000 },
      logger: { level: 'warn', stream: { write: (line) => void logs.push(line) } },
    };
    gateways = [await createGateway(options), await createGateway(options)];
  });
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await redis.stop();
    await idp.close();
  });

  const login = (replica: number, address: string) =>
    gateways[replica]!.inject({ url: '/api/v1/login', headers: { 'x-forwarded-for': address } });

  it('counts one client against one limit on every replica', async () => {
    const codes = [];
    for (let i = 0; i < 4; i += 1) codes.push((await login(i % 2, '203.0.113.9')).statusCode);
    // Login is not configured (400), but the limiter counts first.
    expect(codes).toEqual([400, 400, 400, 429]);
    expect((await login(0, '203.0.113.10')).statusCode).toBe(400);
  });

  it('counts a whole IPv6 /64 as one client', async () => {
    const codes = [];
    for (let i = 1; i <= 4; i += 1)
      codes.push((await login(i % 2, `2001:db8:7:7::${i}`)).statusCode);
    expect(codes).toEqual([400, 400, 400, 429]);
    expect((await login(0, '2001:db8:7:8::1')).statusCode).toBe(400);
  });

  it('lets requests through and tells the operator while Redis is down', async () => {
    await redis.kill();
    try {
      const codes = [];
      for (let i = 0; i < 5; i += 1) codes.push((await login(0, '203.0.113.50')).statusCode);
      expect(codes).toEqual([400, 400, 400, 400, 400]);
      const notes = logs.filter((line) => line.includes('rate limit not enforced'));
      // Once per interval, not once per request.
      expect(notes).toHaveLength(1);
      expect(notes[0]).toContain('StoreUnavailableError');
    } finally {
      await redis.restart();
    }
  });
});
