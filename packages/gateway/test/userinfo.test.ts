/** `GET /api/v1/userinfo` over HTTP: the seed's proxy to the IdP's userinfo endpoint. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp } from '@zitauth/testing';
import { startStack, type Stack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const userinfo = (target: Stack, headers: Record<string, string> = {}) =>
  target.gateway.inject({ url: '/api/v1/userinfo', headers });

describe('GET /api/v1/userinfo', () => {
  it('answers 200 with the profile under "userinfo"', async () => {
    const token = await stack.idp.mintAccessToken({ subject: stack.user.id });
    const response = await userinfo(stack, { authorization: `Bearer ${token}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toMatchObject({
      userinfo: { sub: stack.user.id, name: 'Ada Lovelace', email: stack.user.email },
    });
  });

  it('answers 400 without an Authorization header', async () => {
    const response = await userinfo(stack);
    expect(response.statusCode).toBe(400);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="zitauth-gateway"');
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'No access token was sent',
    });
  });

  it('answers 401 invalid_token for a malformed token', async () => {
    const response = await userinfo(stack, { authorization: 'Bearer a b' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('answers 401 for a token the IdP does not accept', async () => {
    const response = await userinfo(stack, { authorization: 'Bearer not-a-token' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: 'invalid_token' });
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers 503 when the IdP is down', async () => {
    const idp = await startTestIdp();
    const down = await startStack({}, idp);
    const token = await idp.mintAccessToken({ subject: down.user.id });
    idp.faults.set('userinfo', { status: 502 });
    try {
      const response = await userinfo(down, { authorization: `Bearer ${token}` });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
      await idp.close();
    }
  });
});
