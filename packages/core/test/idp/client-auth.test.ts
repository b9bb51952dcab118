/**
 * Client authentication: form-urlencoding before Basic (ZITADEL's published vector) and
 * ZITADEL-style assertions, verified with the public key.
 */
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ASSERTION_LIFETIME_SECONDS,
  basicAuthorization,
  formUrlEncode,
  privateKeyJwtFields,
  signAssertion,
} from '../../src/idp/client-auth.js';
import { loadKeyFile } from '../../src/idp/key-file.js';

const ISSUER = 'https://acme.zitadel.cloud';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY = loadKeyFile({
  type: 'application',
  keyId: '81693565968962154',
  key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  appId: '81693565968896618',
  clientId: '78366401571920522@acme',
});

function fromBasic(header: string): string {
  return Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
}

describe('formUrlEncode', () => {
  it.each([
    ['abcXYZ019-_.~', 'abcXYZ019-_.~'],
    ['a b', 'a+b'],
    ['a+b', 'a%2Bb'],
    ['78366401571920522@amce', '78366401571920522%40amce'],
    ["!'()*", '%21%27%28%29%2A'],
    [':/?#[]&=%', '%3A%2F%3F%23%5B%5D%26%3D%25'],
    ['é€', '%C3%A9%E2%82%AC'],
    ['', ''],
  ])('encodes %j as %j', (value, encoded) => {
    expect(formUrlEncode(value)).toBe(encoded);
  });

  it('round-trips through form decoding', () => {
    const value = "id@org:s3cr3t!+ /'()*%~";
    expect(new URLSearchParams(`v=${formUrlEncode(value)}`).get('v')).toBe(value);
  });
});

describe('basicAuthorization', () => {
  it('matches ZITADEL’s published vector', () => {
    expect(basicAuthorization('78366401571920522@amce', 'veryweaksecret!')).toBe(
      'Basic NzgzNjY0MDE1NzE5MjA1MjIlNDBhbWNlOnZlcnl3ZWFrc2VjcmV0JTIx',
    );
  });

  it('encodes a colon in the id so the id/secret split stays unambiguous', () => {
    expect(fromBasic(basicAuthorization('a:b', 'c:d'))).toBe('a%3Ab:c%3Ad');
  });

  it('encodes non-ASCII as UTF-8 percent escapes', () => {
    expect(fromBasic(basicAuthorization('ü', 'ß'))).toBe('%C3%BC:%C3%9F');
  });
});

describe('signAssertion', () => {
  const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 999);

  it('signs RS256 with kid, iss = sub = subject, aud = issuer, iat now, exp 60 s later', async () => {
    const jwt = await signAssertion(KEY, ISSUER, NOW);
    const { payload, protectedHeader } = await jwtVerify(jwt, publicKey, {
      algorithms: ['RS256'],
      issuer: KEY.subject,
      subject: KEY.subject,
      audience: ISSUER,
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: '81693565968962154' });
    expect(payload.aud).toBe(ISSUER);
    expect(payload.iat).toBe(Math.floor(NOW / 1000));
    expect(payload.exp).toBe(Math.floor(NOW / 1000) + ASSERTION_LIFETIME_SECONDS);
    expect(ASSERTION_LIFETIME_SECONDS).toBe(60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
  });

  it('keeps the audience exactly as given', async () => {
    expect(decodeJwt(await signAssertion(KEY, `${ISSUER}/`, NOW)).aud).toBe(`${ISSUER}/`);
  });

  it('uses a fresh jti every time', async () => {
    const jtis = await Promise.all(
      [1, 2, 3].map(async () => decodeJwt(await signAssertion(KEY, ISSUER, NOW)).jti),
    );
    expect(new Set(jtis).size).toBe(3);
  });

  it('defaults to the system clock', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { iat } = decodeJwt(await signAssertion(KEY, ISSUER));
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});

describe('privateKeyJwtFields', () => {
  it('returns the RFC 7523 form fields with a verifiable assertion', async () => {
    const fields = await privateKeyJwtFields(KEY, ISSUER, Date.UTC(2026, 0, 1));
    expect(Object.keys(fields).sort()).toEqual(['client_assertion', 'client_assertion_type']);
    expect(fields['client_assertion_type']).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    await expect(
      jwtVerify(fields['client_assertion'] ?? '', publicKey, {
        audience: ISSUER,
        currentDate: new Date(Date.UTC(2026, 0, 1)),
      }),
    ).resolves.toBeDefined();
  });
});
