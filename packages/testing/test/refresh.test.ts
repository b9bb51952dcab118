import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { User, WebApp } from '../src/types.js';
import { basic, decodePayload, postForm } from './helpers.js';

const REDIRECT = 'http://localhost:3000/callback';
const ROLES = 'urn:zitadel:iam:org:projects:roles';

type TokenBody = Record<string, string | number | undefined>;

/** Logs `user` in through the HTML form and resolves the code the IdP redirects with. */
async function loginCode(
  idp: TestIdp,
  app: WebApp,
  scope: string,
  challenge: string,
): Promise<string> {
  const url = new URL(`${idp.issuer}/oauth/v2/authorize`);
  const params = {
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: REDIRECT,
    scope,
    state: 's',
    nonce: 'n-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const html = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const res = await fetch(new URL(action, idp.issuer), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, username: 'carol', password: 'S3cret!pw' }).toString(),
    redirect: 'manual',
  });
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

describe('refresh tokens', () => {
  let idp: TestIdp;
  let app: WebApp;
  let user: User;
  let introspect: (token: string) => Promise<Record<string, unknown>>;

  beforeAll(async () => {
    idp = await startTestIdp();
    app = idp.createWebApp({ redirectUris: [REDIRECT] });
    user = idp.createUser({ userName: 'carol', password: 'S3cret!pw', roles: ['editor'] });
    const api = idp.createApiApp({ auth: 'basic' });
    introspect = async (token) =>
      (await (
        await postForm(
          `${idp.issuer}/oauth/v2/introspect`,
          { token },
          { Authorization: basic(api.clientId, api.clientSecret) },
        )
      ).json()) as Record<string, unknown>;
  });
  afterAll(() => idp.close());

  async function codeGrant(
    scope: string,
    on: TestIdp = idp,
    client: WebApp = app,
  ): Promise<{ res: Response; body: TokenBody; code: string; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const code = await loginCode(on, client, scope, challenge);
    const fields = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: client.clientId,
    };
    const res = await postForm(`${on.issuer}/oauth/v2/token`, fields);
    return { res, body: (await res.clone().json()) as TokenBody, code, verifier };
  }

  async function refresh(
    token: string,
    extra: Record<string, string> = {},
    on: TestIdp = idp,
    clientId = app.clientId,
  ): Promise<{ status: number; body: TokenBody }> {
    const res = await postForm(`${on.issuer}/oauth/v2/token`, {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: clientId,
      ...extra,
    });
    return { status: res.status, body: (await res.json()) as TokenBody };
  }

  it('issues no refresh token to a login that did not ask for offline_access', async () => {
    const { res, body } = await codeGrant(`openid ${ROLES}`);
    expect(res.status).toBe(200);
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('refreshes with offline_access: a new access token for the same user and roles', async () => {
    const { body } = await codeGrant(`openid offline_access ${ROLES}`);
    const first = String(body['refresh_token']);
    expect(first).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const next = await refresh(first);
    expect(next.status).toBe(200);
    const access = String(next.body['access_token']);
    expect(access).not.toBe(body['access_token']);
    expect(await introspect(access)).toMatchObject({
      active: true,
      sub: user.id,
      client_id: app.clientId,
      'urn:zitadel:iam:org:project:roles': { editor: { [idp.defaultOrg.id]: 'acme.localhost' } },
    });
    const before = decodePayload(String(body['id_token']));
    const after = decodePayload(String(next.body['id_token']));
    expect(after).toMatchObject({
      sub: user.id,
      sid: before['sid'],
      auth_time: before['auth_time'],
    });
    expect(after).not.toHaveProperty('nonce');
    expect(next.body['expires_in']).toBeGreaterThan(0);
  });

  it('rotates: each use returns a new refresh token and the used one stops working', async () => {
    const { body } = await codeGrant('openid offline_access');
    const first = String(body['refresh_token']);
    const second = String((await refresh(first)).body['refresh_token']);
    expect(second).not.toBe(first);
    expect(await refresh(first)).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'refresh token is invalid or expired' },
    });
    const third = await refresh(second);
    expect(third.status).toBe(200);
    expect(third.body['refresh_token']).not.toBe(second);
  });

  it('refuses a refresh token of another client without spending it', async () => {
    const other = idp.createWebApp({ redirectUris: [REDIRECT] });
    const { body } = await codeGrant('openid offline_access');
    const token = String(body['refresh_token']);
    const stolen = await refresh(token, {}, idp, other.clientId);
    expect(stolen.status).toBe(400);
    expect(stolen.body['error']).toBe('invalid_grant');
    expect((await refresh(token)).status).toBe(200);
  });

  it('narrows the scope on request and refuses a wider one with invalid_scope', async () => {
    const { body } = await codeGrant(`openid offline_access ${ROLES}`);
    const wider = await refresh(String(body['refresh_token']), { scope: 'openid email' });
    expect(wider).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const narrow = await refresh(String(body['refresh_token']), { scope: 'offline_access' });
    expect(narrow.status).toBe(200);
    expect(narrow.body).not.toHaveProperty('id_token');
    const claims = await introspect(String(narrow.body['access_token']));
    expect(claims).not.toHaveProperty('urn:zitadel:iam:org:project:roles');
  });

  it('answers 400 invalid_request without a refresh_token and 401 for an unknown client', async () => {
    expect(await refresh('')).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await refresh('x', {}, idp, '1@nobody')).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
  });

  it('revokes a refresh token at the revocation endpoint, only for its own client', async () => {
    const { body } = await codeGrant('openid offline_access');
    const token = String(body['refresh_token']);
    const other = idp.createWebApp({ redirectUris: [REDIRECT] });
    const revoke = (clientId: string): Promise<Response> =>
      postForm(`${idp.issuer}/oauth/v2/revoke`, {
        token,
        token_type_hint: 'refresh_token',
        client_id: clientId,
      });
    expect((await revoke(other.clientId)).status).toBe(200);
    const { body: still } = await refresh(token);
    const rotated = String(still['refresh_token']);
    const ownRevoke = await postForm(`${idp.issuer}/oauth/v2/revoke`, {
      token: rotated,
      client_id: app.clientId,
    });
    expect(ownRevoke.status).toBe(200);
    expect(await refresh(rotated)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The access token is not ended by revoking the refresh token; the client revokes it too.
    expect(await introspect(String(still['access_token']))).toMatchObject({ active: true });
  });

  it('ends the refresh chain when the code is replayed', async () => {
    const { body, code, verifier } = await codeGrant('openid offline_access');
    const rotated = String((await refresh(String(body['refresh_token']))).body['refresh_token']);
    const replay = await postForm(`${idp.issuer}/oauth/v2/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: app.clientId,
    });
    expect(replay.status).toBe(400);
    expect((await refresh(rotated)).status).toBe(400);
  });

  it.each([
    ['idle', { refreshTokenIdleSeconds: 0 }],
    ['absolute', { refreshTokenLifetimeSeconds: 0 }],
  ])('refuses a refresh token past its %s lifetime', async (_kind, lifetime) => {
    const short = await startTestIdp(lifetime);
    try {
      const client = short.createWebApp({ redirectUris: [REDIRECT] });
      short.createUser({ userName: 'carol', password: 'S3cret!pw' });
      const { body } = await codeGrant('openid offline_access', short, client);
      const answer = await refresh(String(body['refresh_token']), {}, short, client.clientId);
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    } finally {
      await short.close();
    }
  });

  it('ends a refresh token through idp.revoke as well', async () => {
    const { body } = await codeGrant('openid offline_access');
    idp.revoke(String(body['refresh_token']));
    expect((await refresh(String(body['refresh_token']))).status).toBe(400);
  });

  it('lists the refresh_token grant and offline_access in discovery', async () => {
    const doc = (await (
      await fetch(`${idp.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, string[]>;
    expect(doc['grant_types_supported']).toContain('refresh_token');
    expect(doc['scopes_supported']).toContain('offline_access');
  });
});
