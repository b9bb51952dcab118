/**
 * Opaque access tokens from oidc-provider, checked by introspection (RFC 7662) through
 * every adapter, with both client authentications core offers: `client_secret_basic`
 * (form-urlencoded id and secret) and `private_key_jwt` from a ZITADEL-style application
 * key file (assertion `aud` = the issuer). A token revoked at the provider (RFC 7009) is
 * refused once the cached answer runs out, on an injected clock rather than a timer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifierOptions } from '@zitauth/core';
import { ADAPTERS, invalidToken, testApi, type AdapterName, type Api } from './apps.js';
import { login } from './login.js';
import {
  ADA,
  INTROSPECT_BASIC,
  INTROSPECT_KEY_FILE,
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

function api(adapter: AdapterName, options: Partial<VerifierOptions> = {}): Promise<Api> {
  return testApi(adapter, { issuer: provider.issuer, audience: RESOURCES.opaque, ...options });
}

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = Date.now();
  return { now: () => time, advance: (ms) => void (time += ms) };
}

const CLIENT_AUTH = [
  [
    'client_secret_basic',
    { clientId: INTROSPECT_BASIC.clientId, clientSecret: INTROSPECT_BASIC.clientSecret },
  ],
  ['private_key_jwt', { keyFile: INTROSPECT_KEY_FILE }],
] as const;

describe.each(ADAPTERS)('oidc-provider opaque tokens through %s', (adapter) => {
  describe.each(CLIENT_AUTH)('introspected with %s', (_method, introspection) => {
    it("accepts a user's opaque token for the resource", async () => {
      const app = await api(adapter, { introspection });
      const { access_token: token } = await login(provider.issuer, {
        scope: 'openid api:read',
        resource: RESOURCES.opaque,
      });
      const res = await app.get('/me', token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        subject: ADA.sub,
        clientId: WEB.clientId,
        scopes: ['api:read'],
        audience: [RESOURCES.opaque],
        tokenKind: 'opaque',
      });
    });

    it("accepts a service's opaque token, whose introspection names no sub", async () => {
      const app = await api(adapter, { introspection });
      const res = await app.get('/me', await provider.clientCredentials(RESOURCES.opaque));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        subject: M2M.clientId,
        clientId: M2M.clientId,
        tokenKind: 'opaque',
      });
    });

    it('refuses an opaque token meant for no resource (the userinfo token)', async () => {
      const app = await api(adapter, { introspection });
      const { access_token: token } = await login(provider.issuer);
      const res = await app.get('/me', token);
      expect(res.status).toBe(401);
      expect(res.wwwAuthenticate).toBe(invalidToken('The access token is not meant for this API'));
    });

    it('refuses a token the provider never issued as inactive', async () => {
      const app = await api(adapter, { introspection });
      const res = await app.get('/me', 'vUiMZKwAyj5A8Xe1FdkE1qVMeIvhC5YDvqagNGgw6cY');
      expect(res.status).toBe(401);
      expect(res.wwwAuthenticate).toBe(invalidToken('The access token is not active'));
    });
  });

  it('refuses a revoked token once the cached answer expires', async () => {
    const clock = manualClock();
    const app = await api(adapter, {
      introspection: CLIENT_AUTH[0][1],
      cache: { maxTtlMs: 30_000 },
      now: clock.now,
    });
    const token = await provider.clientCredentials(RESOURCES.opaque);
    expect((await app.get('/me', token)).status).toBe(200);
    await provider.revoke(token, M2M);
    // Within maxTtlMs the cached answer stands: that is the revocation delay the option bounds.
    expect((await app.get('/me', token)).status).toBe(200);
    clock.advance(30_001);
    const res = await app.get('/me', token);
    expect(res.status).toBe(401);
    expect(res.wwwAuthenticate).toBe(invalidToken('The access token is not active'));
  });

  it('uses explicit endpoints without reading the discovery document', async () => {
    const discovery = provider.requests('/.well-known/openid-configuration');
    const app = await api(adapter, {
      audience: [RESOURCES.opaque, RESOURCES.rs256],
      introspection: CLIENT_AUTH[1][1],
      endpoints: {
        jwksUri: `${provider.issuer}/jwks`,
        introspectionEndpoint: `${provider.issuer}/token/introspection`,
      },
    });
    expect((await app.get('/me', await provider.clientCredentials(RESOURCES.opaque))).status).toBe(
      200,
    );
    expect((await app.get('/me', await provider.clientCredentials(RESOURCES.rs256))).status).toBe(
      200,
    );
    expect(provider.requests('/.well-known/openid-configuration')).toBe(discovery);
  });

  it('reports an outage, not a bad token, when asked to introspect a JWT the provider refuses to', async () => {
    const app = await api(adapter, {
      audience: RESOURCES.rs256,
      introspection: CLIENT_AUTH[0][1],
      introspectJwt: true,
    });
    const res = await app.get('/me', await provider.clientCredentials(RESOURCES.rs256));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token could not be checked; try again later',
    });
  });
});
