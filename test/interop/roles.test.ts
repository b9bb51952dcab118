/**
 * Roles from a provider that is not ZITADEL. oidc-provider adds a plain `roles` array
 * and a Keycloak-style `realm_access.roles` to tokens (`extraTokenClaims`); the `roles`
 * option reads either (a claim name, or a mapper), and `requireRoles` guards a route
 * with them through every adapter. Without the option, only ZITADEL's claims count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Roles, TokenClaims, VerifierOptions } from '@zitauth/core';
import { ADAPTERS, testApi, type AdapterName, type Api } from './apps.js';
import { login } from './login.js';
import {
  INTROSPECT_BASIC,
  M2M,
  M2M_ADMIN,
  RESOURCES,
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

function api(adapter: AdapterName, options: Partial<VerifierOptions> = {}): Promise<Api> {
  return testApi(adapter, { issuer: provider.issuer, audience: RESOURCES.rs256, ...options });
}

/** Keycloak's realm roles (`realm_access.roles`), as roles held in no organisation. */
function realmRoles(claims: TokenClaims): Roles {
  const access = claims['realm_access'] as { roles?: unknown } | undefined;
  const roles = Array.isArray(access?.roles) ? access.roles : [];
  return Object.fromEntries(
    roles.filter((role): role is string => typeof role === 'string').map((role) => [role, {}]),
  );
}

const FORBIDDEN = {
  status: 403,
  wwwAuthenticate:
    'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission"',
};

describe.each(ADAPTERS)('provider roles through %s', (adapter) => {
  it('lets the admin service in when roles name the claim', async () => {
    const app = await api(adapter, { roles: 'roles' });
    const token = await provider.clientCredentials(RESOURCES.rs256, M2M_ADMIN);
    const res = await app.get('/admin', token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ subject: M2M_ADMIN.clientId, roles: ['admin'] });
  });

  it('refuses a caller without the role with insufficient_scope', async () => {
    const app = await api(adapter, { roles: 'roles' });
    const res = await app.get('/admin', await provider.clientCredentials(RESOURCES.rs256, M2M));
    expect(res).toMatchObject(FORBIDDEN);
    const me = await app.get('/me', await provider.clientCredentials(RESOURCES.rs256, M2M));
    expect(me.body).toMatchObject({ roles: ['reader'] });
  });

  it('reads nested roles with a mapper', async () => {
    const app = await api(adapter, { roles: realmRoles });
    const res = await app.get(
      '/admin',
      await provider.clientCredentials(RESOURCES.rs256, M2M_ADMIN),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roles: ['admin', 'offline'] });
  });

  it("lets a user in by the role the provider gave the user's account", async () => {
    const app = await api(adapter, { roles: 'roles' });
    const tokens = await login(provider.issuer, {
      scope: 'openid api:read',
      resource: RESOURCES.rs256,
    });
    expect((await app.get('/admin', tokens.access_token)).status).toBe(200);
  });

  it('reads the same claim from an introspection answer', async () => {
    const app = await api(adapter, {
      audience: RESOURCES.opaque,
      introspection: INTROSPECT_BASIC,
      roles: 'roles',
    });
    const token = await provider.clientCredentials(RESOURCES.opaque, M2M_ADMIN);
    const res = await app.get('/admin', token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ roles: ['admin'], tokenKind: 'opaque' });
  });

  it('grants no roles from a generic claim unless told where to look', async () => {
    const app = await api(adapter, {});
    const res = await app.get(
      '/admin',
      await provider.clientCredentials(RESOURCES.rs256, M2M_ADMIN),
    );
    expect(res).toMatchObject(FORBIDDEN);
  });
});
