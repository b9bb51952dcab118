/**
 * No credential in any log line: a full login, an M2M token, validation, userinfo and a
 * few failures are run with debug logging, and the captured lines are searched for every
 * secret involved. `redactUrl` is tested on its own for the URL shapes it must handle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../src/logging.js';
import {
  basic,
  fragmentOf,
  login,
  M2M_ID,
  M2M_SECRET,
  PAGE_HASH,
  PAGE_SECRET,
  startStack,
  type Stack,
} from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ browserMode: 'token' });
});
afterAll(() => stack.close());

describe('log lines', () => {
  it('never contain a token, code, state, cookie or secret', async () => {
    const { started, callback, response } = await login(stack, `?handoff=${PAGE_HASH}`);
    const handoffCode = fragmentOf(String(response.headers.location)).get('code') ?? '';
    const redeemed = await stack.gateway.inject({
      method: 'POST',
      url: '/api/v1/handoff',
      payload: { code: handoffCode, secret: PAGE_SECRET },
    });
    const accessToken = redeemed.json<{ access_token: string }>().access_token;
    const code = new URLSearchParams(callback.split('?')[1]).get('code') ?? '';
    const state = started.authorizeUrl.searchParams.get('state') ?? '';
    const m2m = await stack.gateway.inject({
      method: 'POST',
      url: '/api/v1/m2m/token',
      headers: { authorization: basic(M2M_ID, M2M_SECRET) },
    });
    const m2mToken = (m2m.json() as { access_token: string }).access_token;
    const bearer = { authorization: `Bearer ${accessToken}` };
    await stack.gateway.inject({ url: '/api/v1/validate', headers: bearer });
    await stack.gateway.inject({ url: '/api/v1/userinfo', headers: bearer });
    await stack.gateway.inject({ url: `/api/v1/validate?access_token=${accessToken}` });
    await stack.gateway.inject({ url: `/api/v1/callback?code=${code}&state=${state}` });
    await stack.gateway.inject({
      url: '/api/v1/validate',
      headers: { authorization: 'Bearer leaked-opaque-value' },
    });

    const text = stack.logs.join('');
    expect(text).toContain('/api/v1/callback?code=[redacted]&state=[redacted]');
    expect(text).toContain('M2M token handed out');
    const secrets = {
      accessToken,
      m2mToken,
      code,
      state,
      cookie: started.cookie.split('=')[1] ?? '',
      m2mSecret: M2M_SECRET,
      opaque: 'leaked-opaque-value',
      handoffCode,
      pageSecret: PAGE_SECRET,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(8);
      expect(text.includes(secret), `${name} appears in the logs`).toBe(false);
    }
  });
});

describe('redactUrl', () => {
  it.each([
    ['/api/v1/callback?code=abc&state=def', '/api/v1/callback?code=[redacted]&state=[redacted]'],
    ['/a?access_token=t&x=1', '/a?access_token=[redacted]&x=1'],
    ['/a?ID_TOKEN=t', '/a?ID_TOKEN=[redacted]'],
    ['/a?%63ode=t', '/a?%63ode=[redacted]'],
    ['/a?%zz=t', '/a?%zz=[redacted]'],
    ['/a?return_to=https%3A%2F%2Fapp.test%2F', '/a?return_to=https%3A%2F%2Fapp.test%2F'],
    ['/a#access_token=t', '/a'],
    ['/plain', '/plain'],
  ])('rewrites %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
