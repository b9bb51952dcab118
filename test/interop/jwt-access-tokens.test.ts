/**
 * JWT access tokens (RFC 9068, `typ: at+jwt`) from oidc-provider, checked locally through
 * every adapter with nothing but generic options: the issuer and the resource indicator
 * as `audience`. Covers the three signature families, user and service tokens, the
 * provider's ID token presented as an access token, and the strict RFC 9068 profile,
 * which accepts the provider's tokens and refuses a ZITADEL-style `typ: JWT` token.
 */
import { createPrivateKey } from 'node:crypto';
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createVerifier, type VerifierOptions } from '@zitauth/core';
import { startTestIdp } from '@zitauth/testing';
import { ADAPTERS, invalidToken, testApi, type AdapterName, type Api } from './apps.js';
import { login } from './login.js';
import { ADA, M2M, RESOURCES, WEB, startProvider, type InteropProvider } from './provider.js';

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

/** The provider's token re-signed with its own RS256 key, header as ZITADEL writes it. */
async function zitadelStyle(token: string): Promise<string> {
  const payload = new TextEncoder().encode(JSON.stringify(decodeJwt(token)));
  const key = createPrivateKey({ key: provider.keys.RS256, format: 'jwk' });
  return new CompactSign(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: String(provider.keys.RS256.kid) })
    .sign(key);
}

describe.each(ADAPTERS)('oidc-provider JWT access tokens through %s', (adapter) => {
  it.each([
    ['RS256', RESOURCES.rs256],
    ['ES256', RESOURCES.es256],
    ['EdDSA', RESOURCES.eddsa],
  ])('accepts a service token signed with %s for the resource audience', async (alg, resource) => {
    const token = await provider.clientCredentials(resource);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, typ: 'at+jwt' });
    const res = await (await api(adapter, { audience: resource })).get('/me', token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      subject: M2M.clientId,
      clientId: M2M.clientId,
      roles: [],
      scopes: ['api:read', 'api:write'],
      audience: [resource],
      tokenKind: 'jwt',
    });
  });

  it("accepts a user's token from the authorization code flow", async () => {
    const { access_token: token } = await login(provider.issuer, {
      scope: 'openid api:read',
      resource: RESOURCES.rs256,
    });
    const res = await (await api(adapter)).get('/me', token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      subject: ADA.sub,
      clientId: WEB.clientId,
      scopes: ['api:read'],
    });
  });

  it('refuses a token issued for another resource server', async () => {
    const token = await provider.clientCredentials(RESOURCES.es256);
    const res = await (await api(adapter)).get('/me', token);
    expect(res.status).toBe(401);
    expect(res.wwwAuthenticate).toBe(invalidToken('The access token is not meant for this API'));
  });

  it("refuses the provider's ID token presented as an access token", async () => {
    const { id_token: idToken } = await login(provider.issuer);
    const res = await (await api(adapter, { audience: WEB.clientId })).get('/me', idToken);
    expect(res.status).toBe(401);
    expect(res.wwwAuthenticate).toBe(invalidToken('An ID token is not an access token'));
  });

  it("accepts the provider's tokens with the strict RFC 9068 profile", async () => {
    const token = await provider.clientCredentials(RESOURCES.rs256);
    const res = await (await api(adapter, { strictJwtProfile: true })).get('/me', token);
    expect(res.status).toBe(200);
  });

  it('refuses a ZITADEL-style typ JWT token with the strict profile and accepts it without', async () => {
    const token = await zitadelStyle(await provider.clientCredentials(RESOURCES.rs256));
    const strict = await (await api(adapter, { strictJwtProfile: true })).get('/me', token);
    expect(strict.status).toBe(401);
    expect(strict.wwwAuthenticate).toBe(invalidToken('The access token type is not accepted'));
    const lenient = await (await api(adapter)).get('/me', token);
    expect(lenient.status).toBe(200);
  });
});

describe('tokens minted by the ZITADEL-compatible testing IdP', () => {
  it('are refused by the strict profile, since ZITADEL signs typ JWT', async () => {
    const idp = await startTestIdp();
    onTestFinished(() => idp.close());
    const options = { issuer: idp.issuer, projectId: idp.defaultProject.id };
    const strict = createVerifier({ ...options, strictJwtProfile: true });
    const lenient = createVerifier(options);
    onTestFinished(() => {
      strict.close();
      lenient.close();
    });
    const token = await idp.mintAccessToken();
    expect(decodeProtectedHeader(token).typ).toBe('JWT');
    await expect(strict.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_TYPE' });
    await expect(lenient.verify(token)).resolves.toMatchObject({ tokenKind: 'jwt' });
  });
});
