import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';

describe('discovery', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.close());

  it('listens on 127.0.0.1 with an issuer without a trailing slash', () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the ZITADEL endpoint paths under the issuer', async () => {
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      issuer: idp.issuer,
      jwks_uri: `${idp.issuer}/oauth/v2/keys`,
      introspection_endpoint: `${idp.issuer}/oauth/v2/introspect`,
      token_endpoint: `${idp.issuer}/oauth/v2/token`,
      userinfo_endpoint: `${idp.issuer}/oidc/v1/userinfo`,
      authorization_endpoint: `${idp.issuer}/oauth/v2/authorize`,
      end_session_endpoint: `${idp.issuer}/oidc/v1/end_session`,
      revocation_endpoint: `${idp.issuer}/oauth/v2/revoke`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(doc['introspection_endpoint_auth_methods_supported']).toEqual([
      'client_secret_basic',
      'private_key_jwt',
    ]);
  });

  it('counts discovery calls', async () => {
    idp.resetCalls();
    await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(idp.calls('discovery')).toBe(1);
  });

  it('answers unknown paths with 404 JSON and wrong methods with 405', async () => {
    const missing = await fetch(`${idp.issuer}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    const wrong = await fetch(`${idp.issuer}/oauth/v2/keys`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });

  it('creates ZITADEL-style ids for the default org and project', () => {
    expect(idp.defaultOrg.id).toMatch(/^[1-9]\d{17}$/);
    expect(idp.defaultProject.id).toMatch(/^[1-9]\d{17}$/);
    expect(idp.defaultProject.roles).toEqual(['admin', 'editor', 'reader']);
    expect(idp.defaultProject.clientId).toMatch(/^\d{18}@zitauth-test$/);
  });
});
