/** `createGateway` itself: option checks at build time and the shared error rendering. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGateway,
  GatewayConfigError,
  hashSecret,
  type GatewayOptions,
} from '@zitauth/gateway';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { LONG_WINDOW_MS } from './helpers.js';

let idp: TestIdp;
let base: GatewayOptions;
beforeAll(async () => {
  idp = await startTestIdp();
  base = {
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: 'http://gateway.test',
    allowedOrigins: ['http://app.test'],
    logger: false,
  };
});
afterAll(() => idp.close());

describe('createGateway', () => {
  it.each<[string, Partial<GatewayOptions>, RegExp]>([
    ['projectId', { projectId: '' }, /projectId: is required/],
    ['publicUrl', { publicUrl: 'gateway' }, /publicUrl: must be an absolute URL/],
    ['publicUrl', { publicUrl: 'http://gateway.test/?x=1' }, /without query/],
    ['allowedOrigins', { allowedOrigins: ['https://app.test/path'] }, /origin only/],
    ['allowedOrigins', { allowedOrigins: [], login: { clientId: 'web' } }, /at least one origin/],
    ['login.clientId', { login: { clientId: '' } }, /login.clientId: is required/],
    ['m2m.clients', { m2m: { keyFile: 'x', clients: [] } }, /at least one client/],
    [
      'm2m.clients',
      { m2m: { keyFile: 'x', clients: [{ id: 'a', secretSha256: 'nothex' }] } },
      /64 hex/,
    ],
    [
      'm2m.keyFile',
      {
        m2m: {
          keyFile: '{"type":"serviceaccount"}',
          clients: [{ id: 'a', secretSha256: hashSecret('s') }],
        },
      },
      /m2m.keyFile/,
    ],
    ['timeoutMs', { timeoutMs: 0 }, /greater than 0/],
    ['rateLimit.login', { rateLimit: { login: -1 } }, /greater than 0/],
    [
      'trustProxy',
      { trustProxy: true as unknown as false },
      /choose its address.*number of proxies/,
    ],
    ['trustProxy', { trustProxy: ['10.0.0.0/8', 'example.com'] }, /"example.com" is not/],
    ['trustProxy', { trustProxy: 1.5 }, /whole number/],
    [
      'cookieSecret',
      { publicUrl: 'https://gateway.test', login: { clientId: 'web' } },
      /required for an https gateway; generate one with: openssl rand -base64 32/,
    ],
    ['cookieSecret', { cookieSecret: 'too-short' }, /at least 32 random bytes/],
    ['returnTo', { returnTo: ['https://evil.test/'] }, /not on an allowed origin/],
    ['store', { redis: { url: 'redis://127.0.0.1:1' }, store: {} as never }, /not both/],
  ])('refuses a bad %s at build time', async (option, overrides, message) => {
    const error = await createGateway({ ...base, ...overrides }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect((error as GatewayConfigError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
  });

  it('lets core refuse a bad issuer at build time', async () => {
    await expect(createGateway({ ...base, issuer: 'http://idp.example.com' })).rejects.toThrow(
      /https/,
    );
  });

  it('answers a body it cannot parse with a JSON 4xx', async () => {
    const gateway = await createGateway(base);
    try {
      const response = await gateway.inject({
        method: 'POST',
        url: '/api/v1/m2m/token',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: 'invalid_request',
        error_description: 'The request is not acceptable',
      });
    } finally {
      await gateway.close();
    }
  });

  it('takes the client address from X-Forwarded-For only from trusted proxies', async () => {
    const gateway = await createGateway({
      ...base,
      trustProxy: 1,
      rateLimit: { login: 1, windowMs: LONG_WINDOW_MS },
    });
    try {
      const from = (address: string) =>
        gateway.inject({ url: '/api/v1/login', headers: { 'x-forwarded-for': address } });
      // Login is not configured here (400), but the limiter counts first.
      expect((await from('203.0.113.1')).statusCode).toBe(400);
      expect((await from('203.0.113.1')).statusCode).toBe(429);
      expect((await from('203.0.113.2')).statusCode).toBe(400);
      // A client's own X-Forwarded-For entries sit left of what the proxy appended.
      expect((await from('198.51.100.1, 203.0.113.1')).statusCode).toBe(429);
    } finally {
      await gateway.close();
    }
  });

  it('trusts X-Forwarded-For only from listed proxy addresses', async () => {
    const gateway = await createGateway({
      ...base,
      trustProxy: ['10.0.0.0/8'],
      rateLimit: { login: 1, windowMs: LONG_WINDOW_MS },
    });
    try {
      const from = (remoteAddress: string, forwarded: string) =>
        gateway.inject({
          url: '/api/v1/login',
          remoteAddress,
          headers: { 'x-forwarded-for': forwarded },
        });
      expect((await from('10.1.2.3', '203.0.113.7')).statusCode).toBe(400);
      expect((await from('10.9.9.9', '203.0.113.7')).statusCode).toBe(429);
      // Not a listed proxy: its header is ignored, its own address counts.
      expect((await from('192.0.2.1', '203.0.113.99')).statusCode).toBe(400);
      expect((await from('192.0.2.1', '203.0.113.100')).statusCode).toBe(429);
    } finally {
      await gateway.close();
    }
  });
});
