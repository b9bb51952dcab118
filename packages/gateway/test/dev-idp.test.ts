/** The embedded-IdP mode: what `startDevIdp` sets up is enough for every route. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createGateway, hashSecret, startDevIdp, type DevIdp } from '@zitauth/gateway';
import { basic, submitLogin } from './helpers.js';

const PUBLIC_URL = 'http://gateway.test';
let dev: DevIdp;
let gateway: FastifyInstance;
beforeAll(async () => {
  dev = await startDevIdp({ publicUrl: PUBLIC_URL, allowedOrigins: ['http://app.test'] });
  gateway = await createGateway({
    ...dev.options,
    publicUrl: PUBLIC_URL,
    allowedOrigins: ['http://app.test'],
    logger: false,
  });
});
afterAll(async () => {
  await gateway.close();
  await dev.close();
});

describe('startDevIdp', () => {
  it('describes what it set up, with a demo M2M caller', () => {
    const text = dev.summary.join('\n');
    expect(text).toContain(dev.idp.issuer);
    expect(text).toContain('ada / Password1!');
    expect(text).toMatch(/M2M caller \(test credentials\): demo-service \/ [A-Za-z0-9_-]{32}/);
  });

  it('lets ada log in through the gateway', async () => {
    const start = await gateway.inject({ url: '/api/v1/login' });
    const cookie = String(start.headers['set-cookie']).split(';')[0] ?? '';
    const callback = await submitLogin(new URL(String(start.headers.location)), {
      userName: 'ada',
      password: 'Password1!',
    });
    const done = await gateway.inject({ url: callback, headers: { cookie } });
    // Session mode by default: the browser gets a session cookie, not a token.
    const session = ([] as string[])
      .concat(done.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('zitauth_session='));
    const me = await gateway.inject({
      url: '/api/v1/session',
      headers: { cookie: (session ?? '').split(';', 1)[0] ?? '' },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json<{ roles: { role: string }[] }>().roles.length).toBeGreaterThan(0);
  });

  it('gives the demo caller an M2M token', async () => {
    const secret = /demo-service \/ (\S+)/.exec(dev.summary.join('\n'))?.[1] ?? '';
    const response = await gateway.inject({
      method: 'POST',
      url: '/api/v1/m2m/token',
      headers: { authorization: basic('demo-service', secret) },
    });
    expect(response.statusCode).toBe(200);
  });

  it('keeps configured M2M callers and prints no secret for them', async () => {
    const other = await startDevIdp({
      publicUrl: PUBLIC_URL,
      allowedOrigins: [],
      m2mClients: [{ id: 'billing', secretSha256: hashSecret('s') }],
    });
    try {
      expect(other.options.m2m?.clients).toEqual([
        { id: 'billing', secretSha256: hashSecret('s') },
      ]);
      expect(other.summary.join('\n')).toContain('M2M callers: billing');
    } finally {
      await other.close();
    }
  });
});
