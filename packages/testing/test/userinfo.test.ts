import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';

describe('userinfo', () => {
  let idp: TestIdp;
  let url: string;
  beforeAll(async () => {
    idp = await startTestIdp();
    url = `${idp.issuer}/oidc/v1/userinfo`;
  });
  afterAll(() => idp.close());

  it('answers profile, email and ZITADEL claims for a valid token', async () => {
    const user = idp.createUser({
      userName: 'alice',
      givenName: 'Alice',
      familyName: 'Doe',
      roles: ['reader'],
    });
    const token = await idp.mintAccessToken({
      subject: user.id,
      format: 'opaque',
      scope: 'openid profile email urn:zitadel:iam:user:resourceowner',
    });
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: user.id,
      name: 'Alice Doe',
      given_name: 'Alice',
      family_name: 'Doe',
      preferred_username: 'alice@acme.localhost',
      email: 'alice@acme.localhost',
      email_verified: true,
      'urn:zitadel:iam:user:resourceowner:id': idp.defaultOrg.id,
      'urn:zitadel:iam:org:project:roles': { reader: { [idp.defaultOrg.id]: 'acme.localhost' } },
    });
  });

  it('releases only what the scope allows', async () => {
    const user = idp.createUser();
    const token = await idp.mintAccessToken({ subject: user.id, scope: 'openid' });
    const body = (await (
      await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    ).json()) as Record<string, unknown>;
    expect(body['sub']).toBe(user.id);
    expect(body).not.toHaveProperty('email');
    expect(body).not.toHaveProperty('name');
  });

  it.each([
    ['an expired token', () => idp.mintAccessToken({ expiresInSeconds: -1 })],
    ['an unknown token', () => Promise.resolve('nope')],
    [
      'a revoked token',
      async () => {
        const token = await idp.mintAccessToken();
        idp.revoke(token);
        return token;
      },
    ],
  ])('answers 401 with an invalid_token challenge for %s', async (_name, make) => {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${await make()}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('answers 401 with a bare challenge without a token', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});
