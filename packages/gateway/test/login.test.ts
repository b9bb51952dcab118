/**
 * The browser login routes over HTTP against the local IdP: the authorization request,
 * the sealed login cookie (browser binding, expiry, tampering, parallel logins, replicas,
 * a /login flood), the ID token checks, where the browser is sent, and logout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  APP_ORIGIN,
  sessionCookieOf,
  login,
  PUBLIC_URL,
  startLogin,
  startStack,
  submitLogin,
  type Stack,
  LONG_WINDOW_MS,
} from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const callback = (stackUnder: Stack, url: string, cookie?: string) =>
  stackUnder.gateway.inject({
    method: 'GET',
    url,
    headers: cookie === undefined ? {} : { cookie },
  });

function expectBadRequest(response: { statusCode: number; json(): unknown }, description: RegExp) {
  expect(response.statusCode).toBe(400);
  const body = response.json() as { error: string; error_description: string };
  expect(body.error).toBe('invalid_request');
  expect(body.error_description).toMatch(description);
}

describe('GET /api/v1/login', () => {
  it('redirects to the IdP with code, PKCE S256, state, nonce and the project scopes', async () => {
    const response = await stack.gateway.inject({ url: '/api/v1/login' });
    expect(response.statusCode).toBe(302);
    const url = new URL(String(response.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(`${stack.idp.issuer}/oauth/v2/authorize`);
    const params = url.searchParams;
    expect(params.get('response_type')).toBe('code');
    expect(params.get('client_id')).toBe(stack.clientId);
    expect(params.get('redirect_uri')).toBe(`${PUBLIC_URL}/api/v1/callback`);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(params.get('scope')?.split(' ')).toEqual([
      'openid',
      'profile',
      'email',
      `urn:zitadel:iam:org:project:id:${stack.idp.defaultProject.id}:aud`,
      'urn:zitadel:iam:org:projects:roles',
      'urn:zitadel:iam:user:resourceowner',
      'offline_access',
    ]);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('seals the login into an HttpOnly, SameSite=Lax cookie named after its state', async () => {
    const response = await stack.gateway.inject({ url: '/api/v1/login' });
    const state = new URL(String(response.headers.location)).searchParams.get('state') ?? '';
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^zitauth_login_[A-Za-z0-9_-]{12}=[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/api\/v1\/callback; HttpOnly; SameSite=Lax$/,
    );
    expect(setCookie.startsWith(`zitauth_login_${state.slice(0, 12)}=`)).toBe(true);
    // Nothing readable inside: not the verifier, not the nonce, not the return page.
    const nonce = new URL(String(response.headers.location)).searchParams.get('nonce') ?? '';
    const payload = setCookie.split(';')[0]?.split('.')[3] ?? '';
    expect(Buffer.from(payload, 'base64url').toString('latin1')).not.toContain(nonce);
    expect(setCookie).not.toContain('app.test');
  });

  it('uses a __Host- cookie for an https gateway', async () => {
    const secure = await startStack(
      { publicUrl: 'https://gateway.test', cookieSecret: 'A'.repeat(43) },
      stack.idp,
    );
    try {
      const response = await secure.gateway.inject({ url: '/api/v1/login' });
      expect(String(response.headers['set-cookie'])).toMatch(
        /^__Host-zitauth_login_[A-Za-z0-9_-]{12}=[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax; Secure$/,
      );
    } finally {
      await secure.close();
    }
  });

  it('gives every login its own state and PKCE challenge', async () => {
    const first = await startLogin(stack.gateway);
    const second = await startLogin(stack.gateway);
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(first.authorizeUrl.searchParams.get(name)).not.toBe(
        second.authorizeUrl.searchParams.get(name),
      );
    }
  });

  it.each([
    ['another origin', 'https://evil.test/'],
    ['an origin sharing the prefix', `${APP_ORIGIN}.evil.test/`],
    ['a relative path', '/somewhere'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['credentials in the URL', `http://user:pass@app.test/`],
    [
      'a page of the app origin outside the allowlist',
      `${APP_ORIGIN}/redirect?to=https://evil.test/`,
    ],
    ['a page beside the allowed prefix', `${APP_ORIGIN}/application`],
  ])('refuses return_to on %s with 400', async (_name, target) => {
    const response = await stack.gateway.inject({
      url: `/api/v1/login?return_to=${encodeURIComponent(target)}`,
    });
    expectBadRequest(response, /allowed return page/);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('refuses return_to sent twice with 400', async () => {
    const response = await stack.gateway.inject({
      url: `/api/v1/login?return_to=${encodeURIComponent(`${APP_ORIGIN}/a`)}&return_to=https%3A%2F%2Fevil.test%2F`,
    });
    expectBadRequest(response, /allowed return page/);
  });

  it('answers 400 when login is not configured', async () => {
    const bare = await startStack({ login: undefined }, stack.idp);
    try {
      expectBadRequest(await bare.gateway.inject({ url: '/api/v1/login' }), /not configured/);
      expectBadRequest(
        await bare.gateway.inject({ url: '/api/v1/callback?state=x&code=y' }),
        /not configured/,
      );
    } finally {
      await bare.close();
    }
  });

  it('answers 503 when the IdP cannot be reached to build the URL', async () => {
    const idp = await startTestIdp();
    const down = await startStack({}, idp);
    idp.faults.set('discovery', { status: 500 });
    try {
      const response = await down.gateway.inject({ url: '/api/v1/login' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
      await idp.close();
    }
  });
});

describe('GET /api/v1/callback', () => {
  it('sends the browser to the app with a session cookie and no token', async () => {
    const { response } = await login(stack);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`${APP_ORIGIN}/`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['set-cookie']).toContainEqual(
      expect.stringMatching(
        /^zitauth_login_[A-Za-z0-9_-]{12}=; Max-Age=0; Path=\/api\/v1\/callback/,
      ),
    );
    const session = await stack.gateway.inject({
      url: '/api/v1/session',
      headers: { cookie: sessionCookieOf(response.headers['set-cookie']) },
    });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ subject: stack.user.id, roles: [{ role: 'editor' }] });
  });

  it('returns to the page given as return_to', async () => {
    const { response } = await login(
      stack,
      `?return_to=${encodeURIComponent(`${APP_ORIGIN}/app/?tab=2#old`)}`,
    );
    expect(response.headers.location).toBe('http://app.test/app/?tab=2');
  });

  it('refuses a replayed callback, even with the cookie copied back in', async () => {
    const { started, callback: url, response } = await login(stack);
    expect(response.statusCode).toBe(302);
    // The browser dropped the cookie; the IdP redeems a code only once.
    expectBadRequest(await callback(stack, url), /not started in this browser/);
    expectBadRequest(await callback(stack, url, started.cookie), /could not be completed/);
  });

  it('refuses a state the cookie was not sealed for', async () => {
    const started = await startLogin(stack.gateway);
    const url = await submitLogin(started.authorizeUrl, stack.user);
    const state = started.authorizeUrl.searchParams.get('state') ?? '';
    // Same cookie name (first 12 characters), different state.
    const forged = url.replace(/state=[^&]+/, `state=${state.slice(0, 12)}${'x'.repeat(31)}`);
    expectBadRequest(await callback(stack, forged, started.cookie), /invalid or expired/);
  });

  it('refuses a tampered cookie and one sealed by a gateway with another secret', async () => {
    const started = await startLogin(stack.gateway);
    const url = await submitLogin(started.authorizeUrl, stack.user);
    const [name, value = ''] = started.cookie.split('=');
    const parts = value.split('.');
    const ciphertext = Buffer.from(parts[3] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    parts[3] = ciphertext.toString('base64url');
    expectBadRequest(
      await callback(stack, url, `${name}=${parts.join('.')}`),
      /invalid or expired/,
    );
    const other = await startStack({ cookieSecret: 'B'.repeat(43) }, stack.idp);
    try {
      expectBadRequest(await callback(other, url, started.cookie), /invalid or expired/);
    } finally {
      await other.close();
    }
  });

  it('lets a replica with the same cookie secret finish a login another one started', async () => {
    const shared = { cookieSecret: 'C'.repeat(43) };
    const one = await startStack(shared, stack.idp);
    // The second replica: same application, same secret.
    const two = await startStack({ ...shared, login: { clientId: one.clientId } }, stack.idp);
    try {
      const started = await startLogin(one.gateway);
      const url = await submitLogin(started.authorizeUrl, one.user);
      const response = await callback(two, url, started.cookie);
      expect(response.statusCode).toBe(302);
      expect(sessionCookieOf(response.headers['set-cookie'])).not.toBe('');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('finishes logins started in parallel tabs of one browser', async () => {
    const first = await startLogin(
      stack.gateway,
      `?return_to=${encodeURIComponent(`${APP_ORIGIN}/app/one`)}`,
    );
    const second = await startLogin(
      stack.gateway,
      `?return_to=${encodeURIComponent(`${APP_ORIGIN}/app/two`)}`,
    );
    const jar = `${first.cookie}; ${second.cookie}`;
    const secondUrl = await submitLogin(second.authorizeUrl, stack.user);
    const firstUrl = await submitLogin(first.authorizeUrl, stack.user);
    const two = await callback(stack, secondUrl, jar);
    const one = await callback(stack, firstUrl, jar);
    expect(two.headers.location).toBe('http://app.test/app/two');
    expect(one.headers.location).toBe('http://app.test/app/one');
  });

  it('keeps a login in progress working through a flood of 10,000 /login requests', async () => {
    const started = await startLogin(stack.gateway);
    const url = await submitLogin(started.authorizeUrl, stack.user);
    for (let batch = 0; batch < 100; batch += 1) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          stack.gateway.inject({ url: '/api/v1/login', remoteAddress: '198.51.100.7' }),
        ),
      );
      expect(responses.every((response) => response.statusCode === 302)).toBe(true);
    }
    const response = await callback(stack, url, started.cookie);
    expect(response.statusCode).toBe(302);
    expect(sessionCookieOf(response.headers['set-cookie'])).not.toBe('');
  }, 120_000);

  it.each([
    ['no state', '/api/v1/callback?code=abc'],
    ['an empty state', '/api/v1/callback?code=abc&state='],
    ['two states', '/api/v1/callback?code=abc&state=a&state=b'],
  ])('refuses %s', async (_name, url) => {
    expectBadRequest(await callback(stack, url), /state is missing/);
  });

  it('refuses an expired state', async () => {
    const short = await startStack(
      { login: { clientId: stack.clientId, stateTtlMs: 1 } },
      stack.idp,
    );
    try {
      const started = await startLogin(short.gateway);
      const url = await submitLogin(started.authorizeUrl, stack.user);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expectBadRequest(await callback(short, url, started.cookie), /invalid or expired/);
    } finally {
      await short.close();
    }
  });

  it('refuses a callback opened in another browser (no or another login cookie)', async () => {
    const started = await startLogin(stack.gateway);
    const url = await submitLogin(started.authorizeUrl, stack.user);
    expectBadRequest(await callback(stack, url), /not started in this browser/);
    const other = await startLogin(stack.gateway);
    const url2 = await submitLogin(other.authorizeUrl, stack.user);
    expectBadRequest(await callback(stack, url2, started.cookie), /not started in this browser/);
  });

  it('refuses an error answer of the IdP (access denied)', async () => {
    const started = await startLogin(stack.gateway);
    const state = started.authorizeUrl.searchParams.get('state') ?? '';
    const url = `/api/v1/callback?error=access_denied&state=${state}`;
    expectBadRequest(await callback(stack, url, started.cookie), /could not be completed/);
  });

  it('refuses a code the IdP does not redeem with 400', async () => {
    const started = await startLogin(stack.gateway);
    const state = started.authorizeUrl.searchParams.get('state') ?? '';
    const url = `/api/v1/callback?code=not-a-code&state=${state}`;
    expectBadRequest(await callback(stack, url, started.cookie), /could not be completed/);
  });

  it('answers 503 when the token endpoint is down', async () => {
    const started = await startLogin(stack.gateway);
    const url = await submitLogin(started.authorizeUrl, stack.user);
    stack.idp.faults.set('token', { status: 503, times: 1 });
    const response = await callback(stack, url, started.cookie);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});

describe('ID token checks at the callback', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.close());

  /** The claims of a JWT, unverified (to read the nonce the gateway sent). */
  const claimsOf = (jwt: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;

  type Tamper = (idToken: string, clientId: string, nonce: string) => Promise<string>;

  /** A gateway whose token endpoint answers carry an ID token rewritten by `tamper`. */
  async function stackWithIdToken(tamper: Tamper) {
    let clientId = '';
    const fetchImpl = async (input: string | URL, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/oauth/v2/token')) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const idToken = String(body['id_token']);
      body['id_token'] = await tamper(idToken, clientId, String(claimsOf(idToken)['nonce']));
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: response.headers,
      });
    };
    const tampered = await startStack({ fetch: fetchImpl }, idp);
    clientId = tampered.clientId;
    return tampered;
  }

  const now = () => Math.floor(Date.now() / 1000);

  it('accepts a re-issued ID token with the right claims (the tampering itself is sound)', async () => {
    const tampered = await stackWithIdToken((_token, client, nonce) =>
      idp.mintIdToken({ nonce, audience: [client], clientId: client }),
    );
    try {
      const { response } = await login(tampered);
      expect(response.statusCode).toBe(302);
    } finally {
      await tampered.close();
    }
  });

  it.each<[string, Tamper]>([
    [
      'a wrong nonce',
      (_t, client) => idp.mintIdToken({ nonce: 'other', audience: [client], clientId: client }),
    ],
    [
      'another audience',
      (_t, _client, nonce) =>
        idp.mintIdToken({ nonce, audience: ['someone-else'], clientId: 'someone-else' }),
    ],
    [
      'another issuer',
      (_t, client, nonce) =>
        idp.signJwt(
          { alg: 'RS256' },
          { iss: 'https://evil.test', aud: client, sub: '1', nonce, iat: now(), exp: now() + 60 },
        ),
    ],
    [
      'an expiry in the past',
      (_t, client, nonce) =>
        idp.mintIdToken({ nonce, audience: [client], clientId: client, expiresInSeconds: -600 }),
    ],
    [
      'a broken signature',
      async (token) => {
        const [header, payload, signature] = token.split('.');
        return `${header}.${payload}.${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
      },
    ],
    [
      'no signature (alg none)',
      (_t, client, nonce) =>
        idp.signJwt(
          { alg: 'none' },
          { iss: idp.issuer, aud: client, sub: '1', nonce, iat: now(), exp: now() + 60 },
        ),
    ],
  ])('refuses an ID token with %s', async (_name, tamper) => {
    const tampered = await stackWithIdToken(tamper);
    try {
      const { response } = await login(tampered);
      expectBadRequest(response, /could not be completed/);
      expect(tampered.logs.join('')).toContain('login refused');
    } finally {
      await tampered.close();
    }
  });
});

describe('GET /api/v1/logout', () => {
  let tokenMode: Stack;
  beforeAll(async () => {
    tokenMode = await startStack({ browserMode: 'token' }, stack.idp);
  });
  afterAll(() => tokenMode.close());

  it('answers 405 in session mode: a session ends with POST and the CSRF header', async () => {
    const response = await stack.gateway.inject({ url: '/api/v1/logout' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });

  it('redirects to the end-session endpoint with the client id and return page', async () => {
    const response = await tokenMode.gateway.inject({ url: '/api/v1/logout' });
    expect(response.statusCode).toBe(302);
    const url = new URL(String(response.headers.location));
    expect(`${url.origin}${url.pathname}`).toBe(`${stack.idp.issuer}/oidc/v1/end_session`);
    expect(url.searchParams.get('client_id')).toBe(tokenMode.clientId);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${APP_ORIGIN}/`);
  });

  it('refuses a return page outside the allowed origins', async () => {
    const response = await tokenMode.gateway.inject({
      url: '/api/v1/logout?return_to=https%3A%2F%2Fevil.test%2F',
    });
    expectBadRequest(response, /allowed return page/);
  });
});

describe('rate limit on the login routes', () => {
  it('answers 429 with Retry-After past the limit per address', async () => {
    const limited = await startStack(
      { rateLimit: { login: 2, windowMs: LONG_WINDOW_MS } },
      stack.idp,
    );
    try {
      const codes = [];
      for (let i = 0; i < 3; i += 1)
        codes.push((await limited.gateway.inject({ url: '/api/v1/login' })).statusCode);
      expect(codes).toEqual([302, 302, 429]);
      const other = await limited.gateway.inject({
        url: '/api/v1/login',
        remoteAddress: '10.0.0.2',
      });
      expect(other.statusCode).toBe(302);
      const refused = await limited.gateway.inject({ url: '/api/v1/callback?state=a&code=b' });
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({ error: 'rate_limited' });
    } finally {
      await limited.close();
    }
  });
});
