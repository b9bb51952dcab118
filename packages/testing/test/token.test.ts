import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { ApiApp } from '../src/types.js';
import {
  assertion,
  basic,
  decodePayload,
  introspectAs,
  postForm,
  type AssertionOverrides,
} from './helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

describe('token endpoint', () => {
  let idp: TestIdp;
  let api: ApiApp & { clientSecret: string };
  let tokenUrl: string;
  const audScope = (): string => `urn:zitadel:iam:org:project:id:${idp.defaultProject.id}:aud`;
  const introspect = (token: string) => introspectAs(idp.issuer, api, token);

  beforeAll(async () => {
    idp = await startTestIdp();
    tokenUrl = `${idp.issuer}/oauth/v2/token`;
    api = idp.createApiApp({ auth: 'basic' });
  });
  afterAll(() => idp.close());

  async function jwtBearer(
    scope: string,
    user = idp.createServiceUser({ roles: ['admin'] }),
    o: AssertionOverrides = {},
  ): Promise<Response> {
    return postForm(tokenUrl, {
      grant_type: JWT_BEARER,
      assertion: await assertion(user.keyFile, idp.issuer, o),
      scope,
    });
  }

  it('issues a JWT for the JWT bearer grant with audience, roles and an ID token', async () => {
    const user = idp.createServiceUser({ roles: ['admin'] });
    const res = await jwtBearer(`openid ${audScope()} urn:zitadel:iam:org:projects:roles`, user);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const claims = decodePayload(String(body['access_token']));
    expect(claims).toMatchObject({
      sub: user.userId,
      aud: [idp.defaultProject.id],
      client_id: user.userId,
      [`urn:zitadel:iam:org:project:${idp.defaultProject.id}:roles`]: {
        admin: { [idp.defaultOrg.id]: 'acme.localhost' },
      },
    });
    expect(decodePayload(String(body['id_token']))).toMatchObject({
      sub: user.userId,
      azp: user.userId,
    });
    expect(await introspect(String(body['access_token']))).toMatchObject({
      active: true,
      sub: user.userId,
    });
  });

  it('leaves out roles without the roles scope, and the ID token without openid', async () => {
    const body = (await (await jwtBearer(audScope())).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('id_token');
    const claims = decodePayload(String(body['access_token']));
    expect(Object.keys(claims).filter((c) => c.endsWith(':roles'))).toEqual([]);
  });

  // internal/api/oidc/token_jwt_profile.go passes projectRoleAssertion=false: the project's
  // "Assert Roles on Authentication" does not reach service-user grants.
  it("ignores the project's role assertion for the JWT bearer grant", async () => {
    const project = idp.createProject({ name: 'asserting', roleAssertion: true });
    const user = idp.createServiceUser({ roles: ['reader'], projectId: project.id });
    const body = (await (
      await jwtBearer(`urn:zitadel:iam:org:project:id:${project.id}:aud`, user)
    ).json()) as Record<string, unknown>;
    const claims = decodePayload(String(body['access_token']));
    expect(Object.keys(claims).filter((c) => c.endsWith(':roles'))).toEqual([]);
  });

  it('issues opaque tokens for a service user with the opaque token type', async () => {
    const user = idp.createServiceUser({ accessTokenType: 'opaque' });
    const body = (await (await jwtBearer(audScope(), user)).json()) as Record<string, unknown>;
    expect(String(body['access_token'])).not.toContain('.');
    expect(await introspect(String(body['access_token']))).toMatchObject({
      active: true,
      sub: user.userId,
    });
  });

  it.each<[string, () => AssertionOverrides]>([
    ['a wrong kid', () => ({ kid: '1' })],
    ['an audience with a trailing slash', () => ({ aud: `${idp.issuer}/` })],
    ['iss different from sub', () => ({ iss: 'other' })],
    [
      'an expired assertion',
      () => ({ iat: Math.floor(Date.now() / 1000) - 100, exp: Math.floor(Date.now() / 1000) - 10 }),
    ],
    ['iat in the future', () => ({ iat: Math.floor(Date.now() / 1000) + 60 })],
  ])('answers 400 invalid_grant for an assertion with %s', async (_name, overrides) => {
    const res = await jwtBearer(audScope(), undefined, overrides());
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers invalid_request without an assertion', async () => {
    const missing = await postForm(tokenUrl, { grant_type: JWT_BEARER });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('issues a token for client credentials with the service user name and secret', async () => {
    const user = idp.createServiceUser({ roles: ['editor'] });
    const res = await postForm(
      tokenUrl,
      {
        grant_type: 'client_credentials',
        scope: `${audScope()} urn:zitadel:iam:org:projects:roles`,
      },
      { Authorization: basic(user.clientId, user.clientSecret) },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(decodePayload(String(body['access_token']))).toMatchObject({
      client_id: user.clientId,
    });
    expect(await introspect(String(body['access_token']))).toMatchObject({
      active: true,
      sub: user.userId,
      [`urn:zitadel:iam:org:project:${idp.defaultProject.id}:roles`]: {
        editor: { [idp.defaultOrg.id]: 'acme.localhost' },
      },
    });
  });

  it('answers 401 invalid_client for wrong client credentials', async () => {
    const user = idp.createServiceUser();
    const wrong = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { Authorization: basic(user.clientId, 'x') },
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    // zitadel/oidc pkg/op/server_http.go parseClientCredentials: naming no client is 400.
    const none = await postForm(tokenUrl, { grant_type: 'client_credentials' });
    expect(none.status).toBe(400);
  });

  it('answers unsupported_grant_type and invalid_request', async () => {
    const res = await postForm(tokenUrl, { grant_type: 'password' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
    expect(await (await postForm(tokenUrl, {})).json()).toMatchObject({ error: 'invalid_request' });
  });

  it("issues a service user's personal access token as an introspectable opaque token", async () => {
    const user = idp.createServiceUser({ roles: ['admin'] });
    expect(user.pat).not.toContain('.');
    expect(await introspect(user.pat)).toMatchObject({
      active: true,
      sub: user.userId,
      'urn:zitadel:iam:org:project:roles': { admin: { [idp.defaultOrg.id]: 'acme.localhost' } },
    });
  });

  it('writes a service-user key file in the console format', () => {
    const user = idp.createServiceUser();
    expect(user.keyFile).toMatchObject({ type: 'serviceaccount', userId: user.userId });
    expect(user.keyFile.key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  });
});
