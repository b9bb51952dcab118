/**
 * Local JWT verification against a key set served by an injected fetch: algorithms,
 * signatures, malformed tokens, ID-token refusal, the RFC 9068 profile and the claim
 * checks as seen through a signed token. Tokens are made with jose; the odd ones
 * (non-finite dates, non-JSON payloads, `alg: none`) are put together by hand.
 */
import { createPublicKey } from 'node:crypto';
import {
  CompactSign,
  errors,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidTokenError,
  UpstreamError,
  ZitauthConfigError,
  type ZitauthError,
} from '../../src/errors.js';
import { createKeySet } from '../../src/idp/key-set.js';
import { createLocalVerifier, translateJoseError } from '../../src/verification/local-verifier.js';

const ISSUER = 'https://acme.zitadel.cloud';
const PROJECT = '178204173316174381';
// Far from the real clock on purpose: every token here is valid only at this instant.
const NOW = Date.UTC(2025, 0, 1);
const NOW_S = NOW / 1000;
const ALL_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

interface Signer {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signer(alg: string, kid = `${alg}-key`): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** ZITADEL-shaped access token claims, valid at NOW. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: '2234567890',
    aud: [PROJECT, '2234@acme'],
    exp: NOW_S + 300,
    iat: NOW_S - 10,
    nbf: NOW_S - 10,
    client_id: '2234@acme',
    jti: 'V2_234-at_567',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

async function sign(
  key: Signer,
  payload: JWTPayload = claims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** Signs an arbitrary payload text, for payloads JSON.stringify cannot produce. */
async function signRaw(key: Signer, payload: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

interface SetupOptions {
  strictJwtProfile?: boolean;
  requiredClaims?: readonly string[];
  maxTokenLifetimeMs?: number;
  algorithms?: readonly string[];
  fetch?: (url: string | URL, init?: RequestInit) => Promise<Response>;
  signatures?: 'node:crypto' | 'jose';
}

function setup(keys: JWK[], options: SetupOptions = {}) {
  const served = { calls: 0 };
  const fetch =
    options.fetch ??
    (async () => {
      served.calls += 1;
      return new Response(JSON.stringify({ keys }), { status: 200 });
    });
  const keySet = createKeySet({
    jwksUri: async () => `${ISSUER}/oauth/v2/keys`,
    http: { fetch },
    now: () => NOW,
  });
  const verify = createLocalVerifier({
    keySet,
    policy: { issuer: ISSUER, audiences: [PROJECT], clockToleranceMs: 5_000 },
    algorithms: options.algorithms ?? ALL_ALGORITHMS,
    strictJwtProfile: options.strictJwtProfile ?? false,
    ...(options.requiredClaims === undefined ? {} : { requiredClaims: options.requiredClaims }),
    ...(options.maxTokenLifetimeMs === undefined
      ? {}
      : { maxTokenLifetimeMs: options.maxTokenLifetimeMs }),
    now: () => NOW,
    ...(options.signatures === undefined ? {} : { signatures: options.signatures }),
  });
  return { verify, served };
}

const signers: Record<string, Signer> = {};
let rs: Signer;

beforeAll(async () => {
  for (const alg of ALL_ALGORITHMS) signers[alg] = await signer(alg);
  rs = signers['RS256']!;
});

describe('createLocalVerifier: signatures', () => {
  it.each(ALL_ALGORITHMS)('accepts a token signed with %s', async (alg) => {
    const key = signers[alg]!;
    const { verify } = setup(Object.values(signers).map((s) => s.jwk));
    await expect(verify(await sign(key))).resolves.toMatchObject({ sub: '2234567890' });
  });

  it('resolves the verified payload', async () => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs))).resolves.toEqual(claims());
  });

  it('uses the injected clock, not the real one', async () => {
    const { verify } = setup([rs.jwk]);
    expect(NOW_S + 300).toBeLessThan(Date.now() / 1000);
    await expect(verify(await sign(rs))).resolves.toBeDefined();
  });

  it('rejects a token signed by another key under the same kid', async () => {
    const impostor = { ...(await signer('RS256')), kid: rs.kid };
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(impostor))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_SIGNATURE_INVALID',
    });
  });

  it('rejects a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await sign(rs)).split('.');
    const forged = `${header}.${b64(claims({ sub: 'admin' }))}.${signature}`;
    const { verify } = setup([rs.jwk]);
    await expect(verify(forged)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_SIGNATURE_INVALID' });
  });

  it('checks the signature before the claims', async () => {
    const impostor = { ...(await signer('RS256')), kid: rs.kid };
    const { verify } = setup([rs.jwk]);
    const token = await sign(impostor, claims({ iss: 'https://evil.example', exp: NOW_S - 600 }));
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_SIGNATURE_INVALID' });
  });

  it('rejects a token with an empty signature', async () => {
    const [header, payload] = (await sign(rs)).split('.');
    const { verify } = setup([rs.jwk]);
    await expect(verify(`${header}.${payload}.`)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_SIGNATURE_INVALID',
    });
  });

  it('rejects a token whose kid is unknown to the IdP', async () => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign({ ...rs, kid: 'rotated-away' }))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('passes an UpstreamError from the key set through unchanged', async () => {
    const { verify } = setup([], { fetch: async () => new Response('', { status: 503 }) });
    const failure = verify(await sign(rs));
    await expect(failure).rejects.toBeInstanceOf(UpstreamError);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM', status: 503 });
  });

  it('keeps jose errors as cause and never passes their messages on', async () => {
    const impostor = { ...(await signer('RS256')), kid: rs.kid };
    const { verify } = setup([rs.jwk], { signatures: 'jose' });
    const failure = verify(await sign(impostor));
    await expect(failure).rejects.toMatchObject({
      message: 'The access token signature is invalid',
      cause: expect.any(errors.JWSSignatureVerificationFailed),
    });
  });
});

describe('createLocalVerifier: algorithms', () => {
  it('rejects alg none without fetching keys', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    const { verify, served } = setup([rs.jwk]);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED' });
    expect(served.calls).toBe(0);
  });

  it('rejects HS256 signed with the public key as the secret without fetching keys', async () => {
    const publicPem = await exportSPKI(createPublicKey({ key: rs.jwk, format: 'jwk' }));
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: rs.kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(publicPem));
    const { verify, served } = setup([rs.jwk]);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED' });
    expect(served.calls).toBe(0);
  });

  it('rejects an asymmetric algorithm left out of the allowlist without fetching keys', async () => {
    const { verify, served } = setup([signers['ES256']!.jwk], { algorithms: ['RS256'] });
    await expect(verify(await sign(signers['ES256']!))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED',
    });
    expect(served.calls).toBe(0);
  });

  it.each([
    ['a symmetric algorithm', ['RS256', 'HS256']],
    ['none', ['none']],
    ['an unknown algorithm', ['RS1']],
    ['no algorithm at all', []],
  ])('refuses an allowlist with %s at construction', (_, algorithms) => {
    expect(() => setup([], { algorithms })).toThrow(ZitauthConfigError);
  });
});

describe('createLocalVerifier: malformed tokens', () => {
  const header = b64({ alg: 'RS256', kid: 'RS256-key' });
  const payload = b64(claims());

  it.each([
    ['two segments', `${header}.${payload}`],
    ['four segments', `${header}.${payload}.sig.extra`],
    ['an empty string', ''],
    ['a header that is not base64url', `@@@.${payload}.sig`],
    ['an empty header', `.${payload}.sig`],
    ['a header that is not JSON', `${b64('not json')}.${payload}.sig`],
    ['a header that is a JSON array', `${b64([1])}.${payload}.sig`],
    ['a header without alg', `${b64({ kid: 'RS256-key' })}.${payload}.sig`],
    ['an unencoded payload (b64: false)', `${b64({ alg: 'RS256', b64: false })}.x.sig`],
  ])('rejects a token with %s without fetching keys', async (_, token) => {
    const { verify, served } = setup([rs.jwk]);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_MALFORMED' });
    expect(served.calls).toBe(0);
  });

  it('rejects a signature that is not base64url', async () => {
    const [h, p] = (await sign(rs)).split('.');
    const { verify } = setup([rs.jwk]);
    await expect(verify(`${h}.${p}.@@`)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
    });
  });

  it('rejects a signed payload that is not valid UTF-8', async () => {
    const token = await new CompactSign(Uint8Array.from([0x7b, 0xff, 0x7d]))
      .setProtectedHeader({ alg: 'RS256', kid: rs.kid })
      .sign(rs.privateKey);
    const { verify } = setup([rs.jwk]);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_MALFORMED' });
  });

  it('reads a payload with a leading UTF-8 byte order mark as a decoder would, and an overlong form as malformed', async () => {
    const json = new TextEncoder().encode(JSON.stringify(claims()));
    const withBom = await new CompactSign(Uint8Array.from([0xef, 0xbb, 0xbf, ...json]))
      .setProtectedHeader({ alg: 'RS256', kid: rs.kid })
      .sign(rs.privateKey);
    const { verify } = setup([rs.jwk]);
    await expect(verify(withBom)).resolves.toMatchObject({ sub: claims()['sub'] });
    // "{" as the overlong two-byte form C1 BB: strict UTF-8 refuses it.
    const overlong = await new CompactSign(Uint8Array.from([0xc1, 0xbb, ...json.slice(1)]))
      .setProtectedHeader({ alg: 'RS256', kid: rs.kid })
      .sign(rs.privateKey);
    await expect(verify(overlong)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_MALFORMED' });
  });

  it.each([
    ['not JSON', 'hello'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
  ])('rejects a signed payload that is %s', async (_, text) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await signRaw(rs, text))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
    });
  });

  it('rejects a critical header extension it does not understand', async () => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'RS256', kid: rs.kid, crit: ['zit'], zit: 1 })
      .sign(rs.privateKey, { crit: { zit: true } });
    const { verify } = setup([rs.jwk]);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_MALFORMED' });
  });
});

describe('createLocalVerifier: claims', () => {
  it.each([
    ['another issuer', { iss: 'https://evil.example' }, 'ERR_ZITAUTH_ISSUER_MISMATCH'],
    ['another audience', { aud: ['999'] }, 'ERR_ZITAUTH_AUDIENCE_MISMATCH'],
    ['an expired token', { exp: NOW_S - 60 }, 'ERR_ZITAUTH_TOKEN_EXPIRED'],
    ['an nbf in the future', { nbf: NOW_S + 60 }, 'ERR_ZITAUTH_TOKEN_NOT_YET_VALID'],
    ['a missing exp', { exp: undefined }, 'ERR_ZITAUTH_CLAIM_INVALID'],
    ['a string exp', { exp: String(NOW_S + 300) }, 'ERR_ZITAUTH_CLAIM_INVALID'],
    ['a missing sub', { sub: undefined }, 'ERR_ZITAUTH_CLAIM_INVALID'],
  ])('rejects %s', async (_, overrides, code) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, claims(overrides)))).rejects.toMatchObject({ code });
  });

  it.each([
    ['1e400', '1e400'],
    ['null', 'null'],
    ['-1e400', '-1e400'],
  ])('rejects an exp written as %s', async (_, raw) => {
    const text = JSON.stringify(claims({ exp: 0 })).replace('"exp":0', `"exp":${raw}`);
    const { verify } = setup([rs.jwk]);
    await expect(verify(await signRaw(rs, text))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_CLAIM_INVALID',
    });
  });

  it('rejects an nbf written as 1e400', async () => {
    const text = JSON.stringify(claims({ nbf: 0 })).replace('"nbf":0', '"nbf":1e400');
    const { verify } = setup([rs.jwk]);
    await expect(verify(await signRaw(rs, text))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_CLAIM_INVALID',
    });
  });
});

describe('createLocalVerifier: ID tokens', () => {
  it.each([
    ['a nonce', { nonce: 'n-0S6_WzA2Mj' }],
    ['an at_hash', { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }],
    ['a c_hash', { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }],
    ['no jti', { jti: undefined }],
    ['a nonce set to null', { nonce: null }],
  ])('refuses a token with %s as an ID token', async (_, overrides) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, claims(overrides)))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ID_TOKEN',
    });
  });

  it('refuses a ZITADEL-shaped ID token before looking at its audience', async () => {
    const idToken = claims({
      aud: ['2234@acme'],
      azp: '2234@acme',
      jti: undefined,
      client_id: undefined,
      nonce: 'abc',
      auth_time: NOW_S - 60,
    });
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, idToken))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ID_TOKEN',
    });
  });

  it.each([
    ['a number', 42],
    ['empty', ''],
  ])('rejects a jti that is %s', async (_, jti) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, claims({ jti })))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_CLAIM_INVALID',
    });
  });
});

describe('createLocalVerifier: JWT profile', () => {
  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['no typ', { typ: undefined }],
  ])('accepts %s when the strict profile is off', async (_, header) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, claims(), header))).resolves.toBeDefined();
  });

  it.each(['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT'])(
    'accepts typ %s under the strict profile',
    async (typ) => {
      const { verify } = setup([rs.jwk], { strictJwtProfile: true });
      await expect(verify(await sign(rs, claims(), { typ }))).resolves.toBeDefined();
    },
  );

  it.each([
    ['typ JWT (what ZITADEL signs)', 'JWT'],
    ['no typ', undefined],
    ['typ application/jwt', 'application/jwt'],
    ['a non-string typ', 7],
  ])('refuses %s under the strict profile', async (_, typ) => {
    const { verify } = setup([rs.jwk], { strictJwtProfile: true });
    await expect(verify(await sign(rs, claims(), { typ }))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
    });
  });

  it.each([
    ['no client_id', { client_id: undefined }],
    ['an empty client_id', { client_id: '' }],
    ['no iat', { iat: undefined }],
  ])('refuses a token with %s under the strict profile', async (_, overrides) => {
    const { verify } = setup([rs.jwk], { strictJwtProfile: true });
    const token = await sign(rs, claims(overrides), { typ: 'at+jwt' });
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
  });

  it('refuses a token without jti under the strict profile', async () => {
    const { verify } = setup([rs.jwk], { strictJwtProfile: true });
    const token = await sign(rs, claims({ jti: undefined }), { typ: 'at+jwt' });
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ID_TOKEN' });
  });

  it('refuses a token without client_id or iat by default', async () => {
    const { verify } = setup([rs.jwk]);
    for (const missing of ['client_id', 'iat']) {
      const token = await sign(rs, claims({ [missing]: undefined }));
      await expect(verify(token), missing).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_CLAIM_INVALID',
      });
    }
  });

  it('accepts a token without client_id or iat with requiredClaims: []', async () => {
    const { verify } = setup([rs.jwk], { requiredClaims: [] });
    const token = await sign(rs, claims({ client_id: undefined, iat: undefined }));
    await expect(verify(token)).resolves.toBeDefined();
  });

  it('still requires client_id and iat under the strict profile with requiredClaims: []', async () => {
    const { verify } = setup([rs.jwk], { requiredClaims: [], strictJwtProfile: true });
    const token = await sign(rs, claims({ client_id: undefined }), { typ: 'at+jwt' });
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
  });

  it('refuses a client_id that is not a non-empty string', async () => {
    const { verify } = setup([rs.jwk], { requiredClaims: [] });
    for (const clientId of ['', 7]) {
      const token = await sign(rs, claims({ client_id: clientId }));
      await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
    }
  });
});

describe('createLocalVerifier: typ', () => {
  it.each(['JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt', undefined])(
    'accepts typ %s',
    async (typ) => {
      const { verify } = setup([rs.jwk]);
      await expect(verify(await sign(rs, claims(), { typ }))).resolves.toBeDefined();
    },
  );

  it.each(['logout+jwt', 'dpop+jwt', 'secevent+jwt', 'application/jwt', 'JOSE', 7, ''])(
    'refuses typ %s before fetching any key',
    async (typ) => {
      const { verify, served } = setup([rs.jwk]);
      await expect(verify(await sign(rs, claims(), { typ }))).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_TYPE',
      });
      expect(served.calls).toBe(0);
    },
  );
});

describe('createLocalVerifier: lifetime', () => {
  it('accepts exactly the maximum lifetime and refuses one second more', async () => {
    const { verify } = setup([rs.jwk], { maxTokenLifetimeMs: 3_600_000 });
    const iat = NOW / 1000 - 10;
    await expect(verify(await sign(rs, claims({ iat, exp: iat + 3600 })))).resolves.toBeDefined();
    await expect(verify(await sign(rs, claims({ iat, exp: iat + 3601 })))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_LIFETIME',
    });
  });

  it.each([
    ['exp 1e20', 1e20],
    ['exp in milliseconds', NOW + 600_000],
    ['exp two days ahead', NOW / 1000 + 2 * 86_400],
  ])('refuses %s under the default 24 h', async (_, exp) => {
    const { verify } = setup([rs.jwk]);
    await expect(verify(await sign(rs, claims({ exp })))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_LIFETIME',
    });
  });

  it('counts from now when iat is absent', async () => {
    const { verify } = setup([rs.jwk], { requiredClaims: [], maxTokenLifetimeMs: 60_000 });
    const now = NOW / 1000;
    const near = await sign(rs, claims({ iat: undefined, exp: now + 60 }));
    await expect(verify(near)).resolves.toBeDefined();
    const far = await sign(rs, claims({ iat: undefined, exp: now + 61 }));
    await expect(verify(far)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_LIFETIME' });
  });
});

describe('createLocalVerifier: canonical form', () => {
  it('refuses padded segments and spare bits in the last character', async () => {
    const { verify, served } = setup([rs.jwk]);
    const token = await sign(rs, claims());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = alphabet[alphabet.indexOf(signature.at(-1)!) ^ 1]!;
    for (const bad of [
      `${token}==`,
      `${header}.${payload}.${signature.slice(0, -1)}${flipped}`,
      `${header}.${payload}.${signature}${'A'.repeat((5 - (signature.length % 4)) % 4 || 4)}`,
      `${header}.${payload}.${signature}.`,
    ]) {
      await expect(verify(bad), bad.slice(-8)).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
      });
    }
    expect(served.calls).toBe(0);
  });
});

describe('translateJoseError', () => {
  it.each([
    [new errors.JOSEAlgNotAllowed('x'), 'ERR_ZITAUTH_ALG_NOT_ALLOWED'],
    [new errors.JWSInvalid('x'), 'ERR_ZITAUTH_TOKEN_MALFORMED'],
    [new errors.JWTInvalid('x'), 'ERR_ZITAUTH_TOKEN_MALFORMED'],
    [new errors.JOSENotSupported('x'), 'ERR_ZITAUTH_TOKEN_MALFORMED'],
    [new errors.JWSSignatureVerificationFailed('x'), 'ERR_ZITAUTH_SIGNATURE_INVALID'],
    [new errors.JWKSNoMatchingKey('x'), 'ERR_ZITAUTH_KEY_NOT_FOUND'],
    [new TypeError('CryptoKey does not support this operation'), 'ERR_ZITAUTH_SIGNATURE_INVALID'],
    [null, 'ERR_ZITAUTH_SIGNATURE_INVALID'],
    ['a string', 'ERR_ZITAUTH_SIGNATURE_INVALID'],
    [{ code: 42 }, 'ERR_ZITAUTH_SIGNATURE_INVALID'],
  ])('maps %s to %s with the original as cause', (error, code) => {
    const translated = translateJoseError(error);
    expect(translated).toBeInstanceOf(InvalidTokenError);
    expect(translated).toMatchObject({ code, cause: error });
    expect(translated.message).not.toContain('x');
  });

  it('returns zitauth errors unchanged', () => {
    const upstream = new UpstreamError();
    expect(translateJoseError(upstream)).toBe(upstream);
    const invalid: ZitauthError = new InvalidTokenError('ERR_ZITAUTH_KEY_NOT_FOUND');
    expect(translateJoseError(invalid)).toBe(invalid);
  });
});
