import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { User, WebApp } from '../src/types.js';
import { basic, decodePayload, postForm } from './helpers.js';

const REDIRECT = 'http://localhost:3000/callback';

describe('login flow', () => {
  let idp: TestIdp;
  let app: WebApp;
  let user: User;

  beforeAll(async () => {
    idp = await startTestIdp();
    app = idp.createWebApp({
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: ['http://localhost:3000/bye'],
    });
    user = idp.createUser({ userName: 'bob', password: 'S3cret!pw', roles: ['admin'] });
  });
  afterAll(() => idp.close());

  function pkce(): { verifier: string; challenge: string } {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  function authorizeUrl(params: Record<string, string>): string {
    const url = new URL(`${idp.issuer}/oauth/v2/authorize`);
    const defaults = {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: REDIRECT,
      scope: `openid profile email urn:zitadel:iam:org:projects:roles`,
      state: 'st-1',
      nonce: 'no-1',
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries({ ...defaults, ...params })) url.searchParams.set(k, v);
    return url.toString();
  }

  /** Opens the login page, posts the form and resolves the redirect location. */
  async function login(
    challenge: string,
    password = 'S3cret!pw',
    userName = 'bob',
  ): Promise<Response> {
    const page = await fetch(authorizeUrl({ code_challenge: challenge }));
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const request = /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
    return fetch(new URL(action, idp.issuer), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request, username: userName, password }).toString(),
      redirect: 'manual',
    });
  }

  async function codeFrom(challenge: string): Promise<string> {
    const res = await login(challenge);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('st-1');
    return location.searchParams.get('code') ?? '';
  }

  function redeem(
    code: string,
    verifier: string,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    return postForm(`${idp.issuer}/oauth/v2/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: app.clientId,
      ...extra,
    });
  }

  it('renders a login form with stable ids', async () => {
    const res = await fetch(authorizeUrl({ code_challenge: pkce().challenge }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    for (const id of [
      'id="username"',
      'name="username"',
      'id="password"',
      'name="password"',
      'id="login-submit"',
    ]) {
      expect(html).toContain(id);
    }
  });

  it('logs in and exchanges the code with PKCE for tokens', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFrom(challenge);
    const res = await redeem(code, verifier);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    const access = decodePayload(body['access_token'] ?? '');
    expect(access).toMatchObject({
      sub: user.id,
      client_id: app.clientId,
      'urn:zitadel:iam:org:project:roles': { admin: { [idp.defaultOrg.id]: 'acme.localhost' } },
    });
    expect(access['aud']).toEqual([idp.defaultProject.id, app.clientId]);
    const id = decodePayload(body['id_token'] ?? '');
    expect(id).toMatchObject({ sub: user.id, nonce: 'no-1', azp: app.clientId, amr: ['pwd'] });
    expect(id).not.toHaveProperty('jti');
    const info = await fetch(`${idp.issuer}/oidc/v1/userinfo`, {
      headers: { Authorization: `Bearer ${body['access_token']}` },
    });
    expect(await info.json()).toMatchObject({ sub: user.id, preferred_username: user.loginName });
  });

  it('refuses a wrong verifier', async () => {
    const { challenge } = pkce();
    const code = await codeFrom(challenge);
    const res = await redeem(code, pkce().verifier);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a reused code and revokes what its first use issued', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFrom(challenge);
    const first = (await (await redeem(code, verifier)).json()) as Record<string, string>;
    const second = await redeem(code, verifier);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ error: 'invalid_grant' });
    const api = idp.createApiApp({ auth: 'basic' });
    const introspection = await postForm(
      `${idp.issuer}/oauth/v2/introspect`,
      { token: first['access_token'] ?? '' },
      { Authorization: basic(api.clientId, api.clientSecret) },
    );
    expect(await introspection.json()).toEqual({ active: false });
  });

  it('refuses a mismatched redirect_uri and another client', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFrom(challenge);
    expect(
      await (await redeem(code, verifier, { redirect_uri: 'http://localhost:3000/other' })).json(),
    ).toMatchObject({
      error: 'invalid_grant',
    });
    const other = idp.createWebApp({ redirectUris: [REDIRECT] });
    const code2 = await codeFrom(challenge);
    expect(
      await (await redeem(code2, verifier, { client_id: other.clientId })).json(),
    ).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('shows the form again with an error for a wrong password', async () => {
    const res = await login(pkce().challenge, 'wrong');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('id="login-error"');
  });

  it('accepts the login name and email as well as the user name', async () => {
    for (const name of [user.loginName, user.email]) {
      const res = await login(pkce().challenge, 'S3cret!pw', name);
      expect(res.status).toBe(302);
    }
  });

  it.each([
    ['an unknown client', { client_id: '1@nobody' }],
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/cb' }],
  ])('answers 400 without redirecting for %s', async (_name, params) => {
    const res = await fetch(authorizeUrl({ code_challenge: 'x', ...params }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it.each([
    ['a missing code_challenge', { code_challenge: '' }, 'invalid_request'],
    [
      'the plain method',
      { code_challenge: 'x', code_challenge_method: 'plain' },
      'invalid_request',
    ],
    [
      'another response_type',
      { code_challenge: 'x', response_type: 'token' },
      'unsupported_response_type',
    ],
    ['prompt=none', { code_challenge: 'x', prompt: 'none' }, 'login_required'],
  ])('redirects with an error for %s', async (_name, params, error) => {
    const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('st-1');
  });

  it('refuses a login post for an unknown request', async () => {
    const res = await postForm(`${idp.issuer}/ui/login/login`, {
      request: 'nope',
      username: 'bob',
      password: 'x',
    });
    expect(res.status).toBe(400);
  });

  it('redirects after logout to a registered URI with state', async () => {
    const idToken = await idp.mintIdToken({ clientId: app.clientId, expiresInSeconds: -60 });
    const url = new URL(`${idp.issuer}/oidc/v1/end_session`);
    url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('post_logout_redirect_uri', 'http://localhost:3000/bye');
    url.searchParams.set('state', 's2');
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://localhost:3000/bye?state=s2');
  });

  it('refuses an unregistered post-logout URI and shows a page without one', async () => {
    const url = new URL(`${idp.issuer}/oidc/v1/end_session`);
    url.searchParams.set('client_id', app.clientId);
    url.searchParams.set('post_logout_redirect_uri', 'https://evil.example/');
    const bad = await fetch(url, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const page = await fetch(`${idp.issuer}/oidc/v1/end_session`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('signed out');
  });

  it('refuses a forged id_token_hint', async () => {
    const url = new URL(`${idp.issuer}/oidc/v1/end_session`);
    url.searchParams.set('id_token_hint', 'a.b.c');
    url.searchParams.set('post_logout_redirect_uri', 'http://localhost:3000/bye');
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(400);
  });

  it('answers an HTML error page to a browser for an unknown client', async () => {
    const res = await fetch(authorizeUrl({ code_challenge: 'x', client_id: '1@nobody' }), {
      headers: { Accept: 'text/html' },
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('data-error="invalid_request"');
  });

  // zitadel/oidc pkg/op/server_http.go parseClientCredentials: no client named → 400.
  it('refuses a code redemption without any client identification with 400 invalid_request', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFrom(challenge);
    const res = await postForm(`${idp.issuer}/oauth/v2/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('issues opaque tokens to a web app with the opaque token type', async () => {
    const opaqueApp = idp.createWebApp({ redirectUris: [REDIRECT], accessTokenType: 'opaque' });
    const { verifier, challenge } = pkce();
    const page = await fetch(
      authorizeUrl({ code_challenge: challenge, client_id: opaqueApp.clientId }),
    );
    const request = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const done = await fetch(`${idp.issuer}/ui/login/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request, username: 'bob', password: 'S3cret!pw' }).toString(),
      redirect: 'manual',
    });
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const res = await redeem(code, verifier, { client_id: opaqueApp.clientId });
    const body = (await res.json()) as Record<string, string>;
    expect(body['access_token']).not.toContain('.');
    expect(body['id_token']?.split('.')).toHaveLength(3);
  });
});
