/**
 * Differential test of the `node:crypto` signature path against jose, the reference: over
 * valid tokens of every algorithm and a corpus of malformed and adversarial tokens, both
 * must decide alike. Twice: the bare signature check against jose's `compactVerify` with
 * the same key (so keys a key set would never serve, such as short RSA keys or keys on
 * another curve, are covered too), and the whole local verifier built once with each, on
 * its asynchronous path and on the synchronous one the adapters take.
 */
import {
  generateKeyPairSync,
  sign as cryptoSign,
  type KeyObject,
  type SignKeyObjectInput,
} from 'node:crypto';
import { compactVerify, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSegment,
  verifyCompact,
  verifySignature,
} from '../../src/verification/jws-signature.js';
import { ZitauthError } from '../../src/errors.js';
import { createKeySet } from '../../src/idp/key-set.js';
import { createLocalVerifier } from '../../src/verification/local-verifier.js';

const ISSUER = 'https://acme.zitadel.cloud';
const PROJECT = '178204173316174381';
const NOW = Date.UTC(2025, 0, 1);
const ALGORITHMS = [
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
type Alg = (typeof ALGORITHMS)[number] | 'Ed25519';

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
/** Orders of the NIST curves (SEC 2), to turn an ECDSA `s` into its high twin `n - s`. */
const ORDER: Record<string, bigint> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384:
    0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};
/** The order of the Ed25519 group (RFC 8032 §5.1): a canonical `S` is below it. */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function keyPairFor(alg: string, rsaBits = 2048): KeyPair {
  if (alg.startsWith('ES')) return generateKeyPairSync('ec', { namedCurve: CURVE[alg]! });
  if (alg === 'EdDSA' || alg === 'Ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: rsaBits });
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const nowS = NOW / 1000;
  return {
    iss: ISSUER,
    sub: '2234567890',
    aud: [PROJECT],
    exp: nowS + 300,
    iat: nowS - 10,
    client_id: '2234@acme',
    jti: 'V2_234-at_567',
    ...extra,
  };
}

/** A raw signature of `input` as `alg` prescribes, with knobs to get it subtly wrong. */
function rawSign(
  alg: string,
  key: KeyObject,
  input: string,
  options: { pss?: boolean; saltLength?: number; dsaEncoding?: 'der' | 'ieee-p1363' } = {},
): Buffer {
  const hash = alg.startsWith('Ed') ? null : HASH[alg.slice(2)]!;
  const signKey: SignKeyObjectInput = { key };
  if (options.pss ?? alg.startsWith('PS')) {
    signKey.padding = 6; // RSA_PKCS1_PSS_PADDING
    signKey.saltLength = options.saltLength ?? Number(alg.slice(2)) / 8;
  }
  if (alg.startsWith('ES')) signKey.dsaEncoding = options.dsaEncoding ?? 'ieee-p1363';
  return cryptoSign(hash, Buffer.from(input), signKey);
}

interface Made {
  name: string;
  alg: Alg;
  token: string;
  key: KeyObject;
  /** The decision a correct verifier makes; both implementations must make it. */
  valid: boolean;
}

function compact(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64(header)}.${b64(payload)}`;
}

function withSignature(input: string, signature: Buffer | string): string {
  return `${input}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;
}

function flip(signature: Buffer, at: number): Buffer {
  const copy = Buffer.from(signature);
  copy[Math.floor(copy.length * at) % copy.length]! ^= 0x01;
  return copy;
}

/** `n - s` for a raw ECDSA signature: the "high-S" twin, valid in X9.62. */
function highS(alg: string, signature: Buffer): Buffer {
  const half = signature.length / 2;
  const s = BigInt(`0x${signature.subarray(half).toString('hex')}`);
  const twin = (ORDER[alg]! - s).toString(16).padStart(half * 2, '0');
  return Buffer.concat([signature.subarray(0, half), Buffer.from(twin, 'hex')]);
}

/** An Ed25519 signature with `S + L` in place of `S`: same value mod L, non-canonical. */
function nonCanonicalS(signature: Buffer): Buffer {
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`);
  const bigger = Buffer.from((s + ED25519_L).toString(16).padStart(64, '0'), 'hex').reverse();
  return Buffer.concat([signature.subarray(0, 32), bigger]);
}

/** Valid tokens and signature-level corruptions of them, for one algorithm. */
function corpusFor(alg: Alg, keys: KeyPair, other: KeyPair): Made[] {
  const header = { alg, kid: `${alg}-key`, typ: 'JWT' };
  const input = compact(header, claims());
  const good = rawSign(alg, keys.privateKey, input);
  const key = keys.publicKey;
  const made: Made[] = [
    { name: 'valid', alg, token: withSignature(input, good), key, valid: true },
    {
      name: 'signed by another key',
      alg,
      token: withSignature(input, rawSign(alg, other.privateKey, input)),
      key,
      valid: false,
    },
    { name: 'empty signature', alg, token: `${input}.`, key, valid: false },
    {
      name: 'truncated signature',
      alg,
      token: withSignature(input, good.subarray(0, -1)),
      key,
      valid: false,
    },
    {
      name: 'signature with a byte appended',
      alg,
      token: withSignature(input, Buffer.concat([good, Buffer.from([0])])),
      key,
      valid: false,
    },
    {
      name: 'claims changed after signing',
      alg,
      token: withSignature(compact(header, claims({ sub: 'mallory' })), good),
      key,
      valid: false,
    },
  ];
  for (const at of [0, 0.25, 0.5, 0.99]) {
    made.push({
      name: `bit flip at ${at}`,
      alg,
      token: withSignature(input, flip(good, at)),
      key,
      valid: false,
    });
  }
  return made;
}

/** Cases that only some algorithms have: ECDSA encodings, PSS/PKCS#1 confusion, EdDSA S. */
function specialCases(pairs: Record<string, KeyPair>): Made[] {
  const made: Made[] = [];
  for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
    const input = compact({ alg, kid: `${alg}-key` }, claims());
    const { privateKey, publicKey } = pairs[alg]!;
    const raw = rawSign(alg, privateKey, input);
    const der = rawSign(alg, privateKey, input, { dsaEncoding: 'der' });
    made.push(
      {
        name: 'high-S',
        alg,
        token: withSignature(input, highS(alg, raw)),
        key: publicKey,
        valid: true,
      },
      {
        name: 'DER signature',
        alg,
        token: withSignature(input, der),
        key: publicKey,
        valid: false,
      },
      {
        name: 'r and s zero',
        alg,
        token: withSignature(input, Buffer.alloc(raw.length)),
        key: publicKey,
        valid: false,
      },
    );
  }
  const es256 = pairs['ES256']!;
  const es384 = pairs['ES384']!;
  const asEs384 = compact({ alg: 'ES384' }, claims());
  made.push(
    {
      name: 'ES384 checked with a P-256 key',
      alg: 'ES384',
      token: withSignature(asEs384, rawSign('ES384', es256.privateKey, asEs384)),
      key: es256.publicKey,
      valid: false,
    },
    {
      name: 'ES256 checked with a P-384 key',
      alg: 'ES256',
      token: withSignature(asEs384, rawSign('ES384', es384.privateKey, asEs384)),
      key: es384.publicKey,
      valid: false,
    },
  );
  const rsa = pairs['RS256']!;
  const rsInput = compact({ alg: 'RS256' }, claims());
  const psInput = compact({ alg: 'PS256' }, claims());
  made.push(
    {
      name: 'PSS signature labelled RS256',
      alg: 'RS256',
      token: withSignature(rsInput, rawSign('PS256', rsa.privateKey, rsInput)),
      key: rsa.publicKey,
      valid: false,
    },
    {
      name: 'PKCS#1 v1.5 signature labelled PS256',
      alg: 'PS256',
      token: withSignature(psInput, rawSign('RS256', rsa.privateKey, psInput)),
      key: rsa.publicKey,
      valid: false,
    },
    {
      name: 'PSS with a salt shorter than the hash',
      alg: 'PS256',
      token: withSignature(psInput, rawSign('PS256', rsa.privateKey, psInput, { saltLength: 0 })),
      key: rsa.publicKey,
      valid: false,
    },
    {
      name: 'RS256 checked with an ES256 key',
      alg: 'RS256',
      token: withSignature(rsInput, rawSign('RS256', rsa.privateKey, rsInput)),
      key: es256.publicKey,
      valid: false,
    },
  );
  const short = keyPairFor('RS256', 1024);
  for (const alg of ['RS256', 'PS256'] as const) {
    const input = compact({ alg }, claims());
    made.push({
      name: 'RSA key of 1024 bits',
      alg,
      token: withSignature(input, rawSign(alg, short.privateKey, input)),
      key: short.publicKey,
      valid: false,
    });
  }
  const ed = pairs['EdDSA']!;
  for (const alg of ['EdDSA', 'Ed25519'] as const) {
    const input = compact({ alg }, claims());
    const good = rawSign(alg, ed.privateKey, input);
    made.push(
      { name: 'canonical', alg, token: withSignature(input, good), key: ed.publicKey, valid: true },
      {
        name: 'non-canonical S (S + L)',
        alg,
        token: withSignature(input, nonCanonicalS(good)),
        key: ed.publicKey,
        valid: false,
      },
    );
  }
  return made;
}

async function joseDecides(made: Made): Promise<boolean> {
  return compactVerify(made.token, made.key, { algorithms: [made.alg] }).then(
    () => true,
    () => false,
  );
}

function fastDecides(made: Made): boolean {
  const last = made.token.lastIndexOf('.');
  const signature = decodeSegment(made.token.slice(last + 1));
  return verifySignature(made.alg, made.key, Buffer.from(made.token.slice(0, last)), signature);
}

const pairs: Record<string, KeyPair> = {};
const others: Record<string, KeyPair> = {};
let corpus: Made[] = [];

beforeAll(() => {
  // One RSA pair serves all six RSA algorithms: RSA key generation is the slow part.
  const rsa = [keyPairFor('RS256'), keyPairFor('RS256')] as const;
  for (const alg of ALGORITHMS) {
    const isRsa = alg.startsWith('RS') || alg.startsWith('PS');
    pairs[alg] = isRsa ? rsa[0] : keyPairFor(alg);
    others[alg] = isRsa ? rsa[1] : keyPairFor(alg);
  }
  corpus = [
    ...ALGORITHMS.flatMap((alg) => corpusFor(alg, pairs[alg]!, others[alg]!)),
    ...specialCases(pairs),
  ];
});

describe('verifySignature and jose compactVerify', () => {
  it('decide alike on every valid and adversarial token', async () => {
    expect(corpus.length).toBeGreaterThan(120);
    const disagreements: string[] = [];
    for (const made of corpus) {
      const [fast, jose] = [fastDecides(made), await joseDecides(made)];
      if (fast !== jose || fast !== made.valid) {
        disagreements.push(`${made.alg} ${made.name}: node ${fast}, jose ${jose}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('accepts a valid token of every algorithm', () => {
    for (const alg of ALGORITHMS) {
      const valid = corpus.find((made) => made.alg === alg && made.valid);
      expect(valid && fastDecides(valid), alg).toBe(true);
    }
  });

  it('refuses an algorithm it does not know', () => {
    const made = corpus.find((entry) => entry.alg === 'RS256' && entry.valid)!;
    const last = made.token.lastIndexOf('.');
    const input = Buffer.from(made.token.slice(0, last));
    const signature = decodeSegment(made.token.slice(last + 1));
    expect(verifySignature('HS256', made.key, input, signature)).toBe(false);
  });
});

describe('verifySignature and verifyCompact: edges', () => {
  it('answers false, never throws, when node:crypto itself throws', () => {
    const notAKey = {
      type: 'public',
      asymmetricKeyType: 'rsa',
      asymmetricKeyDetails: { modulusLength: 2048 },
    } as unknown as KeyObject;
    expect(verifySignature('RS256', notAKey, Buffer.from('a.b'), Buffer.alloc(256))).toBe(false);
  });

  it('refuses an algorithm off the allowlist before asking for a key', async () => {
    const made = corpus.find((entry) => entry.alg === 'RS256' && entry.valid)!;
    let asked = false;
    const keyOf = async () => {
      asked = true;
      return made.key;
    };
    await expect(
      verifyCompact(made.token, { alg: 'RS256' }, keyOf, new Set(['ES256'])),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED', status: 401 });
    expect(asked).toBe(false);
    await expect(
      verifyCompact(made.token, { alg: 'RS256' }, keyOf, new Set(['RS256'])),
    ).resolves.toBeInstanceOf(Uint8Array);
  });
});

describe('decodeSegment', () => {
  it('decodes canonical and padded base64url as jose does', () => {
    expect(decodeSegment('aGk').toString()).toBe('hi');
    expect(decodeSegment('aGk=').toString()).toBe('hi');
  });

  it.each(['a', 'ab+c', 'ab/c', 'a$bc'])('refuses %j as malformed', (segment) => {
    expect(() => decodeSegment(segment)).toThrow(
      expect.objectContaining({
        code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------
// The whole local verifier, built once with each signature path over the same key set.

type Outcome = { ok: true; sub: unknown } | { ok: false; code: string };

function verifiers() {
  const jwks: JWK[] = ALGORITHMS.map((alg) => ({
    ...(pairs[alg]!.publicKey.export({ format: 'jwk' }) as JWK),
    kid: `${alg}-key`,
    alg,
    use: 'sig',
  }));
  const build = (signatures: 'node:crypto' | 'jose') =>
    createLocalVerifier({
      keySet: createKeySet({
        jwksUri: async () => `${ISSUER}/oauth/v2/keys`,
        http: { fetch: async () => new Response(JSON.stringify({ keys: jwks })) },
        now: () => NOW,
      }),
      policy: { issuer: ISSUER, audiences: [PROJECT], clockToleranceMs: 5_000 },
      algorithms: ALGORITHMS,
      strictJwtProfile: false,
      now: () => NOW,
      signatures,
    });
  const outcome = (verify: ReturnType<typeof build>) => (token: string) =>
    verify(token).then(
      (payload): Outcome => ({ ok: true, sub: payload['sub'] }),
      (error: { code: string }): Outcome => ({ ok: false, code: error.code }),
    );
  const fast = build('node:crypto');
  /**
   * The synchronous path the adapters take once keys are in memory: a refusal comes back
   * as a value there. `undefined` means it needs I/O, which only a key the memory does not
   * hold may ask for (the key set is fetched again before the token is refused).
   */
  const sync = (token: string): Outcome => {
    let answer: ReturnType<NonNullable<typeof fast.sync>>;
    try {
      answer = fast.sync!(token);
    } catch (error) {
      return { ok: false, code: (error as { code: string }).code };
    }
    if (answer === undefined) return { ok: false, code: 'ERR_ZITAUTH_KEY_NOT_FOUND' };
    if (answer instanceof ZitauthError) return { ok: false, code: answer.code };
    return { ok: true, sub: answer['sub'] };
  };
  return { fast: outcome(fast), sync, jose: outcome(build('jose')) };
}

/** Tokens whose form, header or segments are wrong, built from one valid RS256 token. */
function malformed(): string[] {
  const rsa = pairs['RS256']!;
  const signed = (header: Record<string, unknown>, payload: string) => {
    const input = `${b64(header)}.${payload}`;
    return withSignature(input, rawSign(String(header['alg']), rsa.privateKey, input));
  };
  const header = { alg: 'RS256', kid: 'RS256-key' };
  const good = signed(header, b64(claims()));
  const [h, p, s] = good.split('.') as [string, string, string];
  return [
    good,
    `${h}.${p}`,
    `${h}.${p}.${s}.${s}`,
    `${h}..${s}`,
    `${h}.${p}.${s}=`,
    `${h}.${p}.${s.slice(0, -1)}`,
    `${h}.${p}.${s} `,
    `${h}.${p}.${s.replace(/[_-]/, '+')}`,
    `${h}.${p}é.${s}`,
    signed(header, `${b64(claims())}\t`),
    `${h}.${p}.${s}é`,
    signed({ ...header, crit: ['exp'] }, b64(claims())),
    signed({ ...header, crit: [] }, b64(claims())),
    signed({ ...header, kid: 'unknown' }, b64(claims())),
    signed({ alg: 'RS256' }, b64(claims())),
    signed(header, b64('not json')),
    signed(header, b64([1, 2])),
    signed(header, `${b64(claims())}=`),
    signed(header, `${b64(claims())}a`),
    `${b64({ ...header, alg: 'HS256' })}.${p}.${s}`,
    `${b64({ ...header, alg: 'none' })}.${p}.`,
    `${b64({ ...header, alg: 'PS256' })}.${p}.${s}`,
    `${b64({ ...header, alg: 'ES256', kid: 'ES256-key' })}.${p}.${s}`,
  ];
}

describe('createLocalVerifier with node:crypto and with jose', () => {
  it('decide alike, with the same error code, on the whole corpus', async () => {
    const { fast, sync, jose } = verifiers();
    const tokens = [...corpus.map((made) => made.token), ...malformed()];
    const differences: string[] = [];
    let accepted = 0;
    for (const token of tokens) {
      // The asynchronous call loads the keys, so the synchronous one finds them in memory.
      const [a, b] = [await fast(token), await jose(token)];
      const c = sync(token);
      if (a.ok) accepted += 1;
      if (JSON.stringify(a) !== JSON.stringify(b) || JSON.stringify(c) !== JSON.stringify(b)) {
        differences.push(
          `${token.slice(0, 40)}…: node ${JSON.stringify(a)}, node sync ${JSON.stringify(c)}, ` +
            `jose ${JSON.stringify(b)}`,
        );
      }
    }
    expect(differences).toEqual([]);
    // Valid tokens of all ten algorithms, the high-S twins, and the valid malformed() base.
    expect(accepted).toBeGreaterThanOrEqual(14);
  });
});
