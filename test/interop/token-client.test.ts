/**
 * Core's client side against oidc-provider: the token client gets a client credentials
 * token for the API's resource indicator (RFC 8707, sent as an extra token parameter)
 * and every adapter accepts it; `fetchUserinfo` reads the profile behind a user's token
 * from a scripted login. Both find the provider's endpoints by discovery.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { InvalidTokenError, ZitauthConfigError } from '@zitauth/core';
import { createTokenClient, fetchUserinfo } from '@zitauth/core/token-client';
import { ADAPTERS, invalidToken, startApi } from './apps.js';
import { login } from './login.js';
import {
  ADA,
  INTROSPECT_BASIC,
  M2M,
  RESOURCES,
  WEB,
  startProvider,
  type InteropProvider,
} from './provider.js';

let provider: InteropProvider;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider.close();
});

function tokenClient(tokenParams?: Record<string, string>) {
  const client = createTokenClient({
    issuer: provider.issuer,
    clientId: M2M.clientId,
    clientSecret: M2M.clientSecret,
    scopes: ['api:read'],
    ...(tokenParams === undefined ? {} : { tokenParams }),
  });
  onTestFinished(() => client.close());
  return client;
}

describe.each(ADAPTERS)('the token client against oidc-provider, API on %s', (adapter) => {
  it.each([RESOURCES.rs256, RESOURCES.opaque])(
    'gets a client credentials token for %s that the API accepts',
    async (resource) => {
      const client = tokenClient({ resource });
      const api = await startApi(adapter, {
        issuer: provider.issuer,
        audience: resource,
        introspection: INTROSPECT_BASIC,
      });
      onTestFinished(() => api.close());
      const token = await client.getTokenResponse();
      expect(token.scope).toBe('api:read');
      const res = await api.get('/me', token.accessToken);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ subject: M2M.clientId, scopes: ['api:read'] });
    },
  );

  it('gets a token meant for no API when no resource is named', async () => {
    const api = await startApi(adapter, {
      issuer: provider.issuer,
      audience: RESOURCES.opaque,
      introspection: INTROSPECT_BASIC,
    });
    onTestFinished(() => api.close());
    const res = await api.get('/me', await tokenClient().getToken());
    expect(res.status).toBe(401);
    expect(res.wwwAuthenticate).toBe(invalidToken('The access token is not meant for this API'));
  });
});

describe('the tokenParams option', () => {
  it.each([
    ['a field the client sets itself', { grant_type: 'password' }],
    ['a value that is not a string', { resource: 42 }],
  ])('refuses %s when the client is built', (_case, tokenParams) => {
    const options = { issuer: provider.issuer, ...M2M, tokenParams };
    expect(() => createTokenClient(options as never)).toThrow(ZitauthConfigError);
  });
});

describe('fetchUserinfo against oidc-provider', () => {
  it("returns the profile behind a user's access token", async () => {
    const { access_token: token } = await login(provider.issuer);
    await expect(fetchUserinfo(token, { issuer: provider.issuer })).resolves.toEqual({
      sub: ADA.sub,
      ...ADA.claims,
    });
  });

  it('refuses a token issued for a resource server, which the provider keeps from userinfo', async () => {
    const { access_token: token } = await login(provider.issuer, {
      scope: 'openid api:read',
      resource: RESOURCES.rs256,
    });
    await expect(fetchUserinfo(token, { issuer: provider.issuer })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('refuses a token the provider revoked', async () => {
    const { access_token: token } = await login(provider.issuer);
    await provider.revoke(token, WEB);
    await expect(fetchUserinfo(token, { issuer: provider.issuer })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });
});
