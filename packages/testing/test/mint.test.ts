import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import { decodeHeader, decodePayload } from './helpers.js';

describe('minting', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ accessTokenLifetimeSeconds: 120 });
  });
  afterAll(() => idp.close());

  it('mints a ZITADEL-shaped JWT access token', async () => {
    const token = await idp.mintAccessToken({
      roles: ['admin', 'reader'],
      scope: 'openid urn:zitadel:iam:user:resourceowner',
    });
    const keys = (await (await fetch(`${idp.issuer}/oauth/v2/keys`)).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys), {
      issuer: idp.issuer,
    });
    expect(protectedHeader.typ).toBe('JWT');
    const roles = {
      admin: { [idp.defaultOrg.id]: 'acme.localhost' },
      reader: { [idp.defaultOrg.id]: 'acme.localhost' },
    };
    expect(payload).toMatchObject({
      aud: [idp.defaultProject.id, idp.defaultProject.clientId],
      client_id: idp.defaultProject.clientId,
      [`urn:zitadel:iam:org:project:${idp.defaultProject.id}:roles`]: roles,
      'urn:zitadel:iam:org:project:roles': roles,
      'urn:zitadel:iam:user:resourceowner:id': idp.defaultOrg.id,
      'urn:zitadel:iam:user:resourceowner:name': 'Acme',
      'urn:zitadel:iam:user:resourceowner:primary_domain': 'acme.localhost',
    });
    expect(payload).not.toHaveProperty('scope');
    expect(payload.sub).toMatch(/^\d{18}$/);
    expect(payload.jti).toMatch(/^V2_\d+-at_\d+$/);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120);
  });

  it('mints an opaque token that does not look like a JWT', async () => {
    const token = await idp.mintAccessToken({ format: 'opaque' });
    expect(token).not.toContain('.');
    expect(token.length).toBeGreaterThan(40);
  });

  it('applies time offsets', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = decodePayload(
      await idp.mintAccessToken({
        expiresInSeconds: -5,
        notBeforeSeconds: 10,
        issuedAtSeconds: -100,
      }),
    );
    expect(claims['exp']).toBeGreaterThanOrEqual(now - 5);
    expect(claims['exp']).toBeLessThan(now);
    expect(claims['nbf']).toBeGreaterThanOrEqual(now + 10);
    expect(claims['iat']).toBeLessThanOrEqual(now - 99);
  });

  it('merges claims last and removes claims set to undefined', async () => {
    const claims = decodePayload(
      await idp.mintAccessToken({ claims: { exp: undefined, act: { sub: '1' } } }),
    );
    expect(claims).not.toHaveProperty('exp');
    expect(claims['act']).toEqual({ sub: '1' });
  });

  it('merges the header and signs with a chosen key or algorithm', async () => {
    expect(decodeHeader(await idp.mintAccessToken({ header: { typ: 'at+jwt' } }))['typ']).toBe(
      'at+jwt',
    );
    const token = await idp.mintAccessToken({ alg: 'ES256' });
    const header = decodeHeader(token);
    expect(header['alg']).toBe('ES256');
    expect(idp.keys.list().find((k) => k.kid === header['kid'])).toMatchObject({
      alg: 'ES256',
      active: false,
    });
    await expect(idp.mintAccessToken({ kid: 'nope' })).rejects.toThrow(TypeError);
  });

  it('uses roles given in ZITADEL shape as they are', async () => {
    const roles = { editor: { '1': 'one.example', '2': 'two.example' } };
    expect(
      decodePayload(await idp.mintAccessToken({ roles }))['urn:zitadel:iam:org:project:roles'],
    ).toEqual(roles);
  });

  it("uses a known user's org and roles by default", async () => {
    const org = idp.createOrg({ name: 'Beta Corp' });
    const user = idp.createUser({ orgId: org.id, roles: ['editor'] });
    const scope = 'openid urn:zitadel:iam:user:resourceowner';
    const claims = decodePayload(await idp.mintAccessToken({ subject: user.id, scope }));
    expect(claims['urn:zitadel:iam:user:resourceowner:primary_domain']).toBe('beta-corp.localhost');
    expect(claims['urn:zitadel:iam:org:project:roles']).toEqual({
      editor: { [org.id]: 'beta-corp.localhost' },
    });
  });

  it('emits no role claims without roles', async () => {
    const claims = decodePayload(await idp.mintAccessToken());
    expect(Object.keys(claims).filter((c) => c.endsWith(':roles'))).toEqual([]);
  });

  it('mints an ID token with azp, nonce, at_hash, sid, auth_time, amr and no jti', async () => {
    const token = await idp.mintIdToken({ nonce: 'n-1' });
    const claims = decodePayload(token);
    expect(claims).toMatchObject({ azp: idp.defaultProject.clientId, nonce: 'n-1', amr: ['pwd'] });
    for (const claim of ['at_hash', 'sid', 'auth_time']) expect(claims).toHaveProperty(claim);
    expect(claims).not.toHaveProperty('jti');
  });

  it('signs a raw header and payload, or leaves alg none unsigned', async () => {
    const token = await idp.signJwt({ kid: 'made-up' }, { hello: 'world' });
    expect(decodeHeader(token)).toMatchObject({ kid: 'made-up', alg: 'RS256', typ: 'JWT' });
    expect(decodePayload(token)).toEqual({ hello: 'world' });
    const unsigned = await idp.signJwt({ alg: 'none' }, { a: 1 });
    expect(unsigned.endsWith('.')).toBe(true);
  });

  it('writes key files as JSON into a temp dir', async () => {
    const { readFile } = await import('node:fs/promises');
    const app = idp.createApiApp({ auth: 'private_key_jwt' });
    const path = await idp.writeKeyFile(app.keyFile);
    const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({ ...app.keyFile });
    expect(app.keyFile.key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(app.keyFile).toMatchObject({
      type: 'application',
      appId: app.appId,
      clientId: app.clientId,
    });
  });

  it('removes temp dirs of written key files on close', async () => {
    const { existsSync } = await import('node:fs');
    const other = await startTestIdp();
    const path = await other.writeKeyFile(other.createServiceUser().keyFile);
    expect(existsSync(path)).toBe(true);
    await other.close();
    expect(existsSync(path)).toBe(false);
  });
});
