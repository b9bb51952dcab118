import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { ApiApp, ApplicationKeyFile } from '../src/types.js';
import { ASSERTION_TYPE, assertion, basic, postForm, type AssertionOverrides } from './helpers.js';

describe('introspection', () => {
  let idp: TestIdp;
  let basicApp: ApiApp & { clientSecret: string };
  let jwtApp: ApiApp & { keyFile: ApplicationKeyFile };
  let url: string;

  beforeAll(async () => {
    idp = await startTestIdp();
    url = `${idp.issuer}/oauth/v2/introspect`;
    basicApp = idp.createApiApp({ auth: 'basic' });
    jwtApp = idp.createApiApp({ auth: 'private_key_jwt' });
  });
  afterAll(() => idp.close());

  const withBasic = (
    token: string,
    id = basicApp.clientId,
    secret = basicApp.clientSecret,
  ): Promise<Response> => postForm(url, { token }, { Authorization: basic(id, secret) });

  const withAssertion = async (token: string, o: AssertionOverrides = {}): Promise<Response> =>
    postForm(url, {
      token,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(jwtApp.keyFile, idp.issuer, o),
    });

  it('answers an active JWT with its claims over client_secret_basic', async () => {
    const user = idp.createUser({ roles: ['admin'] });
    const scope = 'openid profile email urn:zitadel:iam:user:resourceowner';
    const token = await idp.mintAccessToken({ subject: user.id, scope });
    const res = await withBasic(token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      sub: user.id,
      iss: idp.issuer,
      client_id: idp.defaultProject.clientId,
      scope: 'openid profile email urn:zitadel:iam:user:resourceowner',
      username: user.loginName,
      preferred_username: user.loginName,
      email: user.email,
      email_verified: true,
      given_name: 'Test',
      [`urn:zitadel:iam:org:project:${idp.defaultProject.id}:roles`]: {
        admin: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain },
      },
      'urn:zitadel:iam:user:resourceowner:id': idp.defaultOrg.id,
    });
    expect(body['aud']).toEqual([idp.defaultProject.id, idp.defaultProject.clientId]);
    for (const claim of ['exp', 'iat', 'nbf', 'jti']) expect(body).toHaveProperty(claim);
  });

  it('answers an active opaque token over private_key_jwt', async () => {
    const token = await idp.mintAccessToken({ format: 'opaque', roles: ['reader'] });
    const res = await withAssertion(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      active: true,
      'urn:zitadel:iam:org:project:roles': { reader: { [idp.defaultOrg.id]: 'acme.localhost' } },
    });
  });

  it('answers active:false for unknown, expired, not-yet-valid and malformed tokens', async () => {
    const tokens = [
      'not-a-token',
      'a.b.c',
      await idp.mintAccessToken({ expiresInSeconds: -10 }),
      await idp.mintAccessToken({ format: 'opaque', expiresInSeconds: -10 }),
      await idp.mintAccessToken({ notBeforeSeconds: 600 }),
      await idp.mintAccessToken({ claims: { exp: undefined } }),
      await idp.mintIdToken(),
    ];
    for (const token of tokens) {
      const res = await withBasic(token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ active: false });
    }
  });

  it('answers active:false for a token signed by an unknown key', async () => {
    const other = await startTestIdp();
    try {
      const forged = await other.signJwt({}, { ...(await tokenClaims()), iss: idp.issuer });
      expect(await (await withBasic(forged)).json()).toEqual({ active: false });
    } finally {
      await other.close();
    }
  });

  it('answers active:false when the audience names neither the client nor its project', async () => {
    const token = await idp.mintAccessToken({ audience: ['someone-else'] });
    expect(await (await withBasic(token)).json()).toEqual({ active: false });
    const forClient = await idp.mintAccessToken({ audience: [basicApp.clientId] });
    expect(await (await withBasic(forClient)).json()).toMatchObject({ active: true });
  });

  it('answers active:false to an app of another project', async () => {
    const other = idp.createApiApp({
      auth: 'basic',
      projectId: idp.createProject({ name: 'other' }).id,
    });
    const token = await idp.mintAccessToken();
    expect(await (await withBasic(token, other.clientId, other.clientSecret)).json()).toEqual({
      active: false,
    });
  });

  it('authenticates the ZITADEL Basic vector', async () => {
    const app = idp.createApiApp({
      auth: 'basic',
      clientId: '78366401571920522@amce',
      clientSecret: 'veryweaksecret!',
    });
    expect(basic(app.clientId, app.clientSecret)).toBe(
      'Basic NzgzNjY0MDE1NzE5MjA1MjIlNDBhbWNlOnZlcnl3ZWFrc2VjcmV0JTIx',
    );
    const res = await withBasic(await idp.mintAccessToken(), app.clientId, app.clientSecret);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ active: true });
  });

  it('refuses Basic credentials that were not form-urlencoded', async () => {
    const app = idp.createApiApp({ auth: 'basic', clientSecret: 'a%41' });
    const raw = `Basic ${Buffer.from(`${app.clientId}:a%41`).toString('base64')}`;
    const res = await postForm(url, { token: 'x' }, { Authorization: raw });
    expect(res.status).toBe(401);
  });

  it.each([
    ['a wrong secret', () => withBasic('x', basicApp.clientId, 'wrong')],
    ['an unknown client', () => withBasic('x', '1@nobody', basicApp.clientSecret)],
    [
      'malformed Basic credentials',
      () => postForm(url, { token: 'x' }, { Authorization: 'Basic !!!' }),
    ],
    [
      'a client id without a secret',
      () => postForm(url, { token: 'x', client_id: basicApp.clientId }),
    ],
  ])('answers 401 invalid_client for %s', async (_name, call) => {
    const res = await call();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  it.each<[string, () => AssertionOverrides]>([
    ['a wrong kid', () => ({ kid: '123' })],
    ['a foreign audience', () => ({ aud: 'https://elsewhere.example' })],
    ['the issuer with a trailing slash', () => ({ aud: `${idp.issuer}/` })],
    ['iss different from sub', () => ({ sub: 'someone-else' })],
    ['an expired assertion', () => ({ iat: now() - 120, exp: now() - 60 })],
    ['iat in the future', () => ({ iat: now() + 30, exp: now() + 90 })],
    ['iat older than one hour', () => ({ iat: now() - 3700, exp: now() + 60 })],
    ['no exp', () => ({ exp: undefined })],
    ['exp more than one hour after iat', () => ({ iat: now(), exp: now() + 3700 })],
  ])('answers 401 invalid_client for an assertion with %s', async (_name, overrides) => {
    const res = await withAssertion(await idp.mintAccessToken(), overrides());
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('accepts an assertion whose aud is an array holding the issuer', async () => {
    const res = await withAssertion(await idp.mintAccessToken(), { aud: [idp.issuer] });
    expect(await res.json()).toMatchObject({ active: true });
  });

  it('refuses an assertion signed by another app key', async () => {
    const other = idp.createApiApp({ auth: 'private_key_jwt' });
    const forged = await assertion(
      { ...other.keyFile, clientId: jwtApp.clientId, keyId: jwtApp.keyFile.keyId },
      idp.issuer,
    );
    const res = await postForm(url, {
      token: 'x',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: forged,
    });
    expect(res.status).toBe(401);
  });

  // zitadel/oidc pkg/op/server_http.go parseClientCredentials: a malformed request, 400.
  it('answers 400 invalid_request for a wrong client_assertion_type', async () => {
    const res = await postForm(url, {
      token: 'x',
      client_assertion_type: 'urn:other',
      client_assertion: await assertion(jwtApp.keyFile, idp.issuer),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  // zitadel/oidc pkg/op/server_http.go: parseClientCredentials, then introspectionHandler.
  it('answers 400 invalid_request without credentials and without a token', async () => {
    const none = await postForm(url, { token: 'x' });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: 'invalid_request' });
    const noToken = await postForm(url, {}, { Authorization: basic(basicApp.clientId, 'wrong') });
    expect(noToken.status).toBe(400);
    expect(await noToken.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('refuses two client authentication methods at once', async () => {
    const res = await postForm(
      url,
      {
        token: 'x',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(jwtApp.keyFile, idp.issuer),
      },
      { Authorization: basic(basicApp.clientId, basicApp.clientSecret) },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers 400 for a body that is not a form, and 413 for an oversized one', async () => {
    const json = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
    const huge = await withBasic('x'.repeat(100_000));
    expect(huge.status).toBe(413);
  });

  it('answers 400 for a repeated parameter', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: basic(basicApp.clientId, basicApp.clientSecret),
      },
      body: 'token=a&token=b',
    });
    expect(res.status).toBe(400);
  });

  async function tokenClaims(): Promise<Record<string, unknown>> {
    const now = Math.floor(Date.now() / 1000);
    return { sub: '1', aud: [idp.defaultProject.id], exp: now + 60, iat: now, jti: 'x' };
  }
});
