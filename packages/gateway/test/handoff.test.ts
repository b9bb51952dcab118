/**
 * Token mode's hand-off over HTTP against the local IdP: the page's secret hash at
 * `/login`, a one-time code (not a token) in the callback's fragment, and its redemption
 * with the secret at `POST /api/v1/handoff`; a code the page did not start is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ORIGIN, fragmentOf, login, startStack, type Stack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ browserMode: 'token' });
});
afterAll(() => stack.close());

function pageSecret(): { secret: string; hash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: createHash('sha256').update(secret).digest('base64url') };
}

const redeem = (body: Record<string, string>) =>
  stack.gateway.inject({ method: 'POST', url: '/api/v1/handoff', payload: body });

async function codeFor(hash: string): Promise<string> {
  const returnTo = encodeURIComponent(`${APP_ORIGIN}/app/`);
  const { response } = await login(stack, `?return_to=${returnTo}&handoff=${hash}`);
  expect(response.statusCode).toBe(302);
  const location = String(response.headers.location);
  expect(location.startsWith(`${APP_ORIGIN}/app/#`)).toBe(true);
  const fragment = fragmentOf(location);
  expect(fragment.has('access_token')).toBe(false);
  return fragment.get('code') ?? '';
}

describe('token mode hand-off', () => {
  it('returns a one-time code, redeemed with the page secret for the access token', async () => {
    const { secret, hash } = pageSecret();
    const code = await codeFor(hash);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const response = await redeem({ code, secret });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const token = response.json<{ access_token: string; token_type: string }>();
    expect(token.token_type).toBe('Bearer');
    const me = await stack.gateway.inject({
      url: '/api/v1/validate',
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(me.statusCode).toBe(200);
  });

  it('refuses a code with another secret (a login the page did not start), and spends it', async () => {
    const attacker = pageSecret();
    const code = await codeFor(attacker.hash);
    const victim = pageSecret();
    const refused = await redeem({ code, secret: victim.secret });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await redeem({ code, secret: attacker.secret })).statusCode).toBe(400);
  });

  it('refuses a code redeemed twice', async () => {
    const { secret, hash } = pageSecret();
    const code = await codeFor(hash);
    expect((await redeem({ code, secret })).statusCode).toBe(200);
    expect((await redeem({ code, secret })).statusCode).toBe(400);
  });

  it('needs the secret hash at /login in token mode', async () => {
    for (const query of [
      '',
      '?handoff=short',
      `?handoff=${pageSecret().hash}&handoff=${pageSecret().hash}`,
    ]) {
      const response = await stack.gateway.inject({ url: `/api/v1/login${query}` });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('answers 400 invalid_request without code or secret, invalid_grant for an unknown code', async () => {
    expect((await redeem({ code: 'x' })).json()).toMatchObject({ error: 'invalid_request' });
    const unknown = await redeem({ code: 'a'.repeat(43), secret: 'b'.repeat(43) });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('token mode CORS', () => {
  it('answers the preflight of POST /handoff for allowed origins only, without credentials', async () => {
    const preflight = (origin: string) =>
      stack.gateway.inject({
        method: 'OPTIONS',
        url: '/api/v1/handoff',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowed.headers['access-control-allow-methods']).toBe('POST');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(
      (await preflight('https://evil.test')).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });
});
