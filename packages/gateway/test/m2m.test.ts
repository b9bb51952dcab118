/**
 * `POST /api/v1/m2m/token` over HTTP against the local IdP: callers authenticate with a
 * configured id and secret; the token is the service user's, good for the project's API;
 * refusals and outages of the IdP are told apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@zitauth/gateway';
import { startTestIdp } from '@zitauth/testing';
import { startRedisServer } from '../../redis/test/redis-server.js';
import { basic, LONG_WINDOW_MS, M2M_ID, M2M_SECRET, startStack, type Stack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const token = (target: Stack, authorization?: string) =>
  target.gateway.inject({
    method: 'POST',
    url: '/api/v1/m2m/token',
    headers: authorization === undefined ? {} : { authorization },
  });

describe('POST /api/v1/m2m/token', () => {
  it('hands an authenticated caller the service user token', async () => {
    const response = await token(stack, basic(M2M_ID, M2M_SECRET));
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json() as {
      access_token: string;
      token_type: string;
      expires_in: number;
    };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(3500);
    const validated = await stack.gateway.inject({
      url: '/api/v1/validate',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(validated.statusCode).toBe(200);
    expect(validated.json()).toMatchObject({ tokenKind: 'jwt', roles: { editor: {} } });
  });

  it('reuses the cached token rather than asking the IdP each time', async () => {
    await token(stack, basic(M2M_ID, M2M_SECRET));
    stack.idp.resetCalls();
    const again = await token(stack, basic(M2M_ID, M2M_SECRET));
    expect(again.statusCode).toBe(200);
    expect(stack.idp.calls('token')).toBe(0);
  });

  it('accepts a form body as OAuth clients send it', async () => {
    const response = await stack.gateway.inject({
      method: 'POST',
      url: '/api/v1/m2m/token',
      headers: {
        authorization: basic(M2M_ID, M2M_SECRET),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'grant_type=client_credentials',
    });
    expect(response.statusCode).toBe(200);
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong secret', basic(M2M_ID, 'guess')],
    ['an unknown client', basic('stranger', M2M_SECRET)],
    ['a bearer token instead', 'Bearer abc'],
    ['a malformed Basic value', 'Basic !!!'],
    ['Basic without a colon', `Basic ${Buffer.from(M2M_ID).toString('base64')}`],
  ])('refuses %s with 401 and a Basic challenge', async (_name, authorization) => {
    const response = await token(stack, authorization);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      'Basic realm="zitauth-gateway", charset="UTF-8"',
    );
    expect(response.json()).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    });
  });

  it('refuses two Authorization headers', async () => {
    const response = await stack.gateway.inject({
      method: 'POST',
      url: '/api/v1/m2m/token',
      headers: { authorization: [basic(M2M_ID, M2M_SECRET), basic(M2M_ID, M2M_SECRET)] } as Record<
        string,
        string[]
      >,
    });
    expect(response.statusCode).toBe(401);
  });

  it('percent-decodes the id and secret (RFC 6749 §2.3.1)', async () => {
    const secret = 'p@ss:w%rd, and then 24 more characters';
    const encoded = await startStack(
      {
        m2m: {
          keyFile: stack.idp.createServiceUser({ userName: 'encoded-caller' }).keyFile,
          clients: [{ id: 'svc@acme', secretSha256: hashSecret(secret) }],
        },
      },
      stack.idp,
    );
    try {
      const response = await token(
        encoded,
        basic(encodeURIComponent('svc@acme'), encodeURIComponent(secret)),
      );
      expect(response.statusCode).toBe(200);
    } finally {
      await encoded.close();
    }
  });

  it('answers 501 when M2M is not configured', async () => {
    const bare = await startStack({ m2m: undefined }, stack.idp);
    try {
      const response = await token(bare, basic(M2M_ID, M2M_SECRET));
      expect(response.statusCode).toBe(501);
      expect(response.json()).toMatchObject({ error: 'not_configured' });
    } finally {
      await bare.close();
    }
  });

  it('answers 502 when the IdP refuses the service user key', async () => {
    const idp = await startTestIdp();
    const refused = await startStack({}, idp);
    idp.faults.set('token', {
      status: 400,
      body: '{"error":"invalid_grant","error_description":"key unknown"}',
    });
    try {
      const response = await token(refused, basic(M2M_ID, M2M_SECRET));
      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({ error: 'upstream_refused' });
      expect(refused.logs.join('')).toContain('refused the service user token request');
    } finally {
      await refused.close();
      await idp.close();
    }
  });

  it('answers 503 with Retry-After when the IdP is down', async () => {
    const idp = await startTestIdp();
    const down = await startStack({}, idp);
    idp.faults.set('token', { status: 503 });
    try {
      const response = await token(down, basic(M2M_ID, M2M_SECRET));
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
      await idp.close();
    }
  });

  it('answers 429 past the rate limit, before checking credentials', async () => {
    const limited = await startStack(
      { rateLimit: { token: 2, windowMs: LONG_WINDOW_MS } },
      stack.idp,
    );
    try {
      const codes = [];
      for (let i = 0; i < 3; i += 1)
        codes.push((await token(limited, basic(M2M_ID, 'guess'))).statusCode);
      expect(codes).toEqual([401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('lockout after wrong secrets', () => {
  const lockoutOptions = (target: Stack, maxFailures: number) => ({
    m2m: {
      keyFile: target.idp.createServiceUser({ userName: `locked-${maxFailures}-${Math.random()}` })
        .keyFile,
      clients: [{ id: M2M_ID, secretSha256: hashSecret(M2M_SECRET) }],
      maxFailures,
      lockoutMs: 60_000,
    },
  });

  it('locks a client out after maxFailures wrong secrets, even for the right one', async () => {
    const locked = await startStack(lockoutOptions(stack, 3), stack.idp);
    try {
      const codes = [];
      for (let i = 0; i < 3; i += 1)
        codes.push((await token(locked, basic(M2M_ID, `guess ${i}`))).statusCode);
      expect(codes).toEqual([401, 401, 401]);
      const refused = await token(locked, basic(M2M_ID, M2M_SECRET));
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
      expect(refused.json()).toMatchObject({ error: 'locked_out' });
      expect(locked.logs.join('')).toContain('M2M client locked out after wrong secrets');
      // Unknown ids and other clients are not affected.
      expect((await token(locked, basic('nobody', 'x'))).statusCode).toBe(401);
    } finally {
      await locked.close();
    }
  });

  it('counts failures across replicas sharing Redis', async () => {
    const redis = await startRedisServer();
    const shared = { redis: { url: redis.url, connectTimeoutMs: 10_000 } };
    const base = lockoutOptions(stack, 4);
    const one = await startStack({ ...base, ...shared }, stack.idp);
    const two = await startStack({ ...base, ...shared }, stack.idp);
    try {
      for (let i = 0; i < 4; i += 1) {
        const replica = i % 2 === 0 ? one : two;
        expect((await token(replica, basic(M2M_ID, `guess ${i}`))).statusCode).toBe(401);
      }
      expect((await token(one, basic(M2M_ID, M2M_SECRET))).statusCode).toBe(429);
      expect((await token(two, basic(M2M_ID, M2M_SECRET))).statusCode).toBe(429);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await redis.stop();
    }
  });

  it('refuses a weak secret that matches its hash and tells the operator which client', async () => {
    const weak = await startStack(
      {
        m2m: {
          keyFile: stack.idp.createServiceUser({ userName: 'weak-caller' }).keyFile,
          clients: [{ id: 'reports', secretSha256: hashSecret('reports2024') }],
        },
      },
      stack.idp,
    );
    try {
      expect((await token(weak, basic('reports', 'reports2024'))).statusCode).toBe(401);
      expect(weak.logs.join('')).toMatch(/"client":"reports".*secret is too weak/);
    } finally {
      await weak.close();
    }
  });
});
