import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestIdp, type SigningAlgorithm, type TestIdp } from '../src/index.js';
import { decodeHeader } from './helpers.js';

async function jwks(idp: TestIdp): Promise<{ keys: { kid: string; alg: string }[] }> {
  return (await (await fetch(`${idp.issuer}/oauth/v2/keys`)).json()) as {
    keys: { kid: string; alg: string }[];
  };
}

describe('keys', () => {
  let idp: TestIdp | undefined;
  afterEach(async () => {
    await idp?.close();
    idp = undefined;
  });

  it('serves the key set with the configured Cache-Control', async () => {
    idp = await startTestIdp({ keysCacheControl: 'max-age=5' });
    const res = await fetch(`${idp.issuer}/oauth/v2/keys`);
    expect(res.headers.get('cache-control')).toBe('max-age=5');
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('sends max-age=300, must-revalidate by default', async () => {
    idp = await startTestIdp();
    const res = await fetch(`${idp.issuer}/oauth/v2/keys`);
    expect(res.headers.get('cache-control')).toBe('max-age=300, must-revalidate');
  });

  it.each<SigningAlgorithm>([
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
  ])('signs verifiable tokens with %s', async (algorithm) => {
    idp = await startTestIdp({ algorithm });
    const token = await idp.mintAccessToken();
    const set = createLocalJWKSet(await jwks(idp));
    const { protectedHeader } = await jwtVerify(token, set, { issuer: idp.issuer });
    expect(protectedHeader).toMatchObject({ alg: algorithm, typ: 'JWT' });
  });

  it('keeps old keys listed but inactive after a rotation', async () => {
    idp = await startTestIdp();
    const before = await idp.mintAccessToken();
    const oldKid = idp.keys.list()[0]?.kid;
    const newKid = await idp.keys.rotate();
    expect(idp.keys.list()).toEqual([
      { kid: oldKid, alg: 'RS256', active: false },
      { kid: newKid, alg: 'RS256', active: true },
    ]);
    const after = await idp.mintAccessToken();
    expect(decodeHeader(after)['kid']).toBe(newKid);
    const set = createLocalJWKSet(await jwks(idp));
    await expect(jwtVerify(before, set)).resolves.toBeDefined();
    await expect(jwtVerify(after, set)).resolves.toBeDefined();
  });

  it('rotates to another algorithm', async () => {
    idp = await startTestIdp();
    const kid = await idp.keys.rotate('ES256');
    const token = await idp.mintAccessToken();
    expect(decodeHeader(token)).toMatchObject({ kid, alg: 'ES256' });
  });

  it('adds listed keys that do not sign', async () => {
    idp = await startTestIdp();
    const kid = await idp.keys.add('ES384');
    expect(idp.keys.list().find((k) => k.kid === kid)).toEqual({
      kid,
      alg: 'ES384',
      active: false,
    });
    expect((await jwks(idp)).keys.map((k) => k.kid)).toContain(kid);
    expect(decodeHeader(await idp.mintAccessToken())['kid']).not.toBe(kid);
    expect(decodeHeader(await idp.mintAccessToken({ kid }))['kid']).toBe(kid);
  });

  it('removes a key so tokens it signed no longer verify', async () => {
    idp = await startTestIdp();
    const token = await idp.mintAccessToken();
    const oldKid = idp.keys.list()[0]?.kid ?? '';
    await idp.keys.rotate();
    idp.keys.remove(oldKid);
    expect((await jwks(idp)).keys.map((k) => k.kid)).not.toContain(oldKid);
    await expect(jwtVerify(token, createLocalJWKSet(await jwks(idp)))).rejects.toThrow();
  });

  it('makes the newest other key sign when the signing key is removed', async () => {
    idp = await startTestIdp();
    const first = idp.keys.list()[0]?.kid ?? '';
    const second = await idp.keys.add();
    idp.keys.remove(first);
    expect(idp.keys.list()).toEqual([{ kid: second, alg: 'RS256', active: true }]);
  });

  it('refuses an unsupported algorithm', async () => {
    await expect(startTestIdp({ algorithm: 'HS256' as SigningAlgorithm })).rejects.toThrow(
      TypeError,
    );
  });
});
