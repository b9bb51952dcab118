// What the IdP issues, checked against what ZITADEL issues. Each test names the ZITADEL
// source that decides the behaviour (paths in github.com/zitadel/zitadel unless another
// repository is named), so a difference found later can be traced to the line it breaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { ApiApp, ServiceUser } from '../src/types.js';
import { assertion, basic, decodePayload, introspectAs, postForm } from './helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ROLES = 'urn:zitadel:iam:org:projects:roles';
const RESOURCE_OWNER = 'urn:zitadel:iam:user:resourceowner';

describe('fidelity to ZITADEL', () => {
  let idp: TestIdp;
  let api: ApiApp & { clientSecret: string };
  const aud = (projectId: string): string => `urn:zitadel:iam:org:project:id:${projectId}:aud`;
  const roleKeys = (claims: Record<string, unknown>): string[] =>
    Object.keys(claims).filter((c) => c.endsWith(':roles'));

  async function jwtBearer(user: ServiceUser, scope: string): Promise<Record<string, unknown>> {
    const res = await postForm(`${idp.issuer}/oauth/v2/token`, {
      grant_type: JWT_BEARER,
      assertion: await assertion(user.keyFile, idp.issuer),
      scope,
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }
  const accessClaims = async (user: ServiceUser, scope: string) =>
    decodePayload(String((await jwtBearer(user, scope))['access_token']));
  const introspect = (token: string) => introspectAs(idp.issuer, api, token);

  beforeAll(async () => {
    idp = await startTestIdp();
    api = idp.createApiApp({ auth: 'basic' });
  });
  afterAll(() => idp.close());

  // internal/api/oidc/token_jwt_profile.go: the client is clientCredentialsClient{id:
  // jwtReq.Subject}; zitadel/oidc#650 puts client.GetID() in client_id.
  it('names the service user id as client_id of a JWT bearer token', async () => {
    const user = idp.createServiceUser();
    const body = await jwtBearer(user, `openid ${aud(idp.defaultProject.id)}`);
    expect(decodePayload(String(body['access_token']))['client_id']).toBe(user.userId);
    expect(await introspect(String(body['access_token']))).toMatchObject({
      active: true,
      client_id: user.userId,
    });
    expect(await introspect(user.pat)).toMatchObject({ client_id: user.userId });
  });

  // internal/api/oidc/client_credentials.go: clientCredentialsClient{id: clientID}, the
  // login name the client authenticated with.
  it('names the user name as client_id of a client credentials token', async () => {
    const user = idp.createServiceUser();
    const res = await postForm(
      `${idp.issuer}/oauth/v2/token`,
      { grant_type: 'client_credentials', scope: aud(idp.defaultProject.id) },
      { Authorization: basic(user.clientId, user.clientSecret) },
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(decodePayload(String(body['access_token']))['client_id']).toBe(user.userName);
  });

  // internal/api/oidc/token.go createJWT builds the claims without Scopes
  // (zitadel/zitadel#12180 proposes adding them); introspect.go answers Scope.
  it('puts no scope in JWT access tokens and answers it from introspection', async () => {
    const user = idp.createServiceUser();
    const scope = `openid ${aud(idp.defaultProject.id)}`;
    const body = await jwtBearer(user, scope);
    expect(body).not.toHaveProperty('scope');
    const token = String(body['access_token']);
    expect(decodePayload(token)).not.toHaveProperty('scope');
    expect(await introspect(token)).toMatchObject({ active: true, scope });
    const minted = await idp.mintAccessToken({ scope: 'openid read:orders' });
    expect(decodePayload(minted)).not.toHaveProperty('scope');
    expect(await introspect(minted)).toMatchObject({ scope: 'openid read:orders' });
  });

  it('puts scope in JWT access tokens only with the jwtScopeClaim option', async () => {
    const other = await startTestIdp({ jwtScopeClaim: true });
    try {
      const token = await other.mintAccessToken({ scope: 'openid read:orders' });
      expect(decodePayload(token)['scope']).toBe('openid read:orders');
    } finally {
      await other.close();
    }
  });

  // internal/api/oidc/userinfo.go userInfoToOIDC: ScopeResourceOwner → setUserInfoOrgClaims.
  it('emits the resourceowner claims only for the urn:zitadel:iam:user:resourceowner scope', async () => {
    const user = idp.createServiceUser();
    const without = await accessClaims(user, `openid ${aud(idp.defaultProject.id)}`);
    expect(Object.keys(without).filter((c) => c.includes(':resourceowner:'))).toEqual([]);
    const withScope = await accessClaims(
      user,
      `openid ${aud(idp.defaultProject.id)} ${RESOURCE_OWNER}`,
    );
    expect(withScope).toMatchObject({
      'urn:zitadel:iam:user:resourceowner:id': idp.defaultOrg.id,
      'urn:zitadel:iam:user:resourceowner:name': 'Acme',
      'urn:zitadel:iam:user:resourceowner:primary_domain': 'acme.localhost',
    });
    expect(decodePayload(await idp.mintAccessToken())).not.toHaveProperty(
      'urn:zitadel:iam:user:resourceowner:id',
    );
  });

  // internal/api/oidc/userinfo.go: prepareRoles reads urn:zitadel:iam:org:project:role:{key}
  // as a request for roles; newProjectRoles keeps only the requested keys.
  it('asserts only the requested roles for urn:zitadel:iam:org:project:role:{key} scopes', async () => {
    const user = idp.createServiceUser({ roles: ['admin', 'reader'] });
    const project = idp.defaultProject.id;
    const claims = await accessClaims(
      user,
      `openid ${aud(project)} urn:zitadel:iam:org:project:role:admin`,
    );
    expect(claims[`urn:zitadel:iam:org:project:${project}:roles`]).toEqual({
      admin: { [idp.defaultOrg.id]: 'acme.localhost' },
    });
  });

  // internal/api/oidc/userinfo.go: setUserInfoRoleClaims emits the generic claim only for
  // the client's own project; token_jwt_profile.go passes no project, and prepareRoles
  // asserts roles only for projects in the audience scopes.
  it('gives JWT bearer tokens only the project-specific roles claim, for projects in aud', async () => {
    const user = idp.createServiceUser({ roles: ['admin'] });
    const project = idp.defaultProject.id;
    const claims = await accessClaims(user, `openid ${aud(project)} ${ROLES}`);
    expect(roleKeys(claims)).toEqual([`urn:zitadel:iam:org:project:${project}:roles`]);
    expect(roleKeys(await accessClaims(user, `openid ${ROLES}`))).toEqual([]);
  });

  // internal/domain/token.go AddAudScopeToAudience: `zitadel` becomes the instance's own
  // API project id; any other id is added without a check.
  it('adds its own API project for ...:zitadel:aud and unknown projects unchecked', async () => {
    const user = idp.createServiceUser();
    const claims = await accessClaims(user, `openid ${aud('zitadel')} ${aud('123')}`);
    expect(claims['aud']).toEqual([idp.zitadelProjectId, '123']);
    expect(idp.zitadelProjectId).toMatch(/^\d{18}$/);
  });

  it('refuses unknown projects in audience scopes only with rejectUnknownProjectScopes', async () => {
    const strict = await startTestIdp({ rejectUnknownProjectScopes: true });
    try {
      const user = strict.createServiceUser();
      const res = await postForm(`${strict.issuer}/oauth/v2/token`, {
        grant_type: JWT_BEARER,
        assertion: await assertion(user.keyFile, strict.issuer),
        scope: `openid ${aud('123')}`,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_scope' });
    } finally {
      await strict.close();
    }
  });

  // zitadel/oidc pkg/oidc/token.go NewAccessTokenClaims: an empty audience becomes the
  // client id (for the JWT bearer grant, the user id).
  it('addresses a JWT bearer token without audience scopes to the client id', async () => {
    const user = idp.createServiceUser();
    expect((await accessClaims(user, 'openid'))['aud']).toEqual([user.userId]);
  });

  // zitadel/oidc pkg/op/auth_request.go ValidateAuthReqScopes (since zitadel/oidc#613):
  // an empty scope is invalid_request; openid is not required and only adds an ID token.
  it('accepts a JWT bearer request without openid and refuses one without any scope', async () => {
    const user = idp.createServiceUser();
    expect(await jwtBearer(user, aud(idp.defaultProject.id))).not.toHaveProperty('id_token');
    const res = await postForm(`${idp.issuer}/oauth/v2/token`, {
      grant_type: JWT_BEARER,
      assertion: await assertion(user.keyFile, idp.issuer),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});
