// DPoP-bound tokens (RFC 9449) through the public verifier against the real testing IdP:
// proofs made by a client key with jose, every proof rule, the binding to the token's
// `cnf.jkt` (JWT and introspected), the modes and their challenges, nonces, replay with
// the in-process and a shared store, and a cached token that still needs every proof.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  createVerifier,
  type DpopReplayStore,
  type TokenRequest,
  type Verifier,
  type VerifierOptions,
} from '../../src/index.js';
import { jwkThumbprint, normalizeHtu } from '../../src/verification/dpop.js';

let idp: TestIdp;
const verifiers: Verifier[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(async () => {
  await idp.close();
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
  idp.faults.clear();
});

const ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519';
const URL_ = 'https://api.example.com/orders';

function verifier(dpop: VerifierOptions['dpop'], options: Partial<VerifierOptions> = {}) {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...(dpop === undefined ? {} : { dpop }),
    ...options,
  });
  verifiers.push(created);
  return created;
}

/** A client's DPoP key pair and its public JWK and thumbprint. */
interface ClientKey {
  privateKey: KeyObject;
  jwk: JWK;
  jkt: string;
}

async function clientKey(type: 'ec' | 'ed25519' | 'rsa' = 'ec'): Promise<ClientKey> {
  const pair =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const jwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const ALG_OF = { EC: 'ES256', OKP: 'EdDSA', RSA: 'PS256' } as Record<string, string>;

interface ProofSpec {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  ath?: string | null;
  nonce?: string;
  typ?: string;
  jwk?: JWK;
}

let counter = 0;

/** A DPoP proof for `token` by `key`, with any claim or header overridden. */
async function proof(key: ClientKey, token: string, spec: ProofSpec = {}): Promise<string> {
  const ath =
    spec.ath === undefined ? createHash('sha256').update(token).digest('base64url') : spec.ath;
  const payload: Record<string, unknown> = {
    htm: spec.htm ?? 'GET',
    htu: spec.htu ?? URL_,
    iat: spec.iat ?? Math.floor(Date.now() / 1000),
    jti: spec.jti ?? `proof-${(counter += 1)}-${Math.random()}`,
  };
  if (ath !== null) payload['ath'] = ath;
  if (spec.nonce !== undefined) payload['nonce'] = spec.nonce;
  const alg = ALG_OF[String(key.jwk.kty)]!;
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: spec.typ ?? 'dpop+jwt', jwk: spec.jwk ?? key.jwk })
    .sign(key.privateKey);
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: idp.issuer,
    sub: 'user-1',
    aud: [idp.defaultProject.id],
    client_id: idp.defaultProject.clientId,
    jti: `at-${Math.random()}`,
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

/** A JWT access token bound to `key` (or unbound). */
function boundToken(key?: ClientKey): Promise<string> {
  return idp.signJwt({ alg: 'RS256' }, claims(key ? { cnf: { jkt: key.jkt } } : {}));
}

/** The request a Node adapter maps: https://api.example.com/orders. */
function dpopRequest(token: string, proofs: string | string[] | undefined): TokenRequest {
  return {
    authorization: `DPoP ${token}`,
    dpop: proofs,
    method: 'GET',
    path: '/orders?page=2',
    secure: true,
    headers: { host: 'api.example.com' },
  };
}

function bearerRequest(token: string): TokenRequest {
  return { ...dpopRequest(token, undefined), authorization: `Bearer ${token}` };
}

describe('a valid proof', () => {
  it('accepts a bound JWT with a proof by its key, and refuses the same proof again', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier('allowed');
    const request = dpopRequest(token, await proof(key, token));
    const auth = await v.authenticate(request);
    expect(auth).toMatchObject({ subject: 'user-1', claims: { cnf: { jkt: key.jkt } } });
    await expect(v.authenticate(request)).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED',
      headers: {
        'WWW-Authenticate': `Bearer realm="api", DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof was already used", algs="${ALGS}"`,
      },
    });
  });

  it.each(['ec', 'ed25519', 'rsa'] as const)(
    'accepts proofs signed with a %s key',
    async (type) => {
      const key = await clientKey(type);
      const token = await boundToken(key);
      const auth = await verifier('required').authenticate(
        dpopRequest(token, await proof(key, token)),
      );
      expect(auth?.subject).toBe('user-1');
    },
  );

  it('answers a cached token with a fresh proof without a promise, and checks each proof', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier('allowed');
    await v.authenticate(dpopRequest(token, await proof(key, token)));
    const again = dpopRequest(token, await proof(key, token));
    expect(v.authenticateSync!(again)?.subject).toBe('user-1');
    expect(() => v.authenticateSync!(again)).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED' }),
    );
    const other = await clientKey();
    expect(() => v.authenticateSync!(dpopRequest(token, '') as TokenRequest)).toThrow(
      expect.objectContaining({ status: 401 }),
    );
    expect(() => v.authenticateSync!(dpopRequest(token, undefined))).toThrow(
      expect.objectContaining({ status: 400, code: 'ERR_ZITAUTH_DPOP_PROOF_REQUIRED' }),
    );
    await expect(
      v.authenticate(dpopRequest(token, await proof(other, token))),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_DPOP_KEY_MISMATCH' });
  });

  it('leaves an unknown token to authenticate without spending its proof', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier('allowed');
    const request = dpopRequest(token, await proof(key, token));
    expect(v.authenticateSync!(request)).toBeUndefined();
    expect((await v.authenticate(request))?.subject).toBe('user-1');
  });

  it('compares htu without query and fragment, after normalization', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier('allowed');
    for (const htu of [
      'HTTPS://API.example.com:443/orders?x=1#frag',
      'https://api.example.com/%6Frders',
      'https://api.example.com/a/../orders',
    ]) {
      await expect(
        v.authenticate(dpopRequest(token, await proof(key, token, { htu }))),
      ).resolves.toMatchObject({ subject: 'user-1' });
    }
    expect(normalizeHtu('https://x.test/a%2fb')).toBe('https://x.test/a%2Fb');
  });

  it('checks htu against the external URL behind a proxy', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier({ mode: 'allowed', externalUrl: 'https://example.com/api/' });
    const request = {
      ...dpopRequest(token, undefined),
      secure: false,
      headers: { host: 'backend:3000' },
    };
    const htu = 'https://example.com/api/orders';
    await expect(
      v.authenticate({ ...request, dpop: await proof(key, token, { htu }) }),
    ).resolves.toMatchObject({ subject: 'user-1' });
    await expect(
      v.authenticate({
        ...request,
        dpop: await proof(key, token, { htu: 'http://backend:3000/orders' }),
      }),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_DPOP_PROOF_INVALID' });
  });
});

describe('a bad proof', () => {
  const cases: [string, (key: ClientKey, token: string) => Promise<string>][] = [
    ['the wrong method', (k, t) => proof(k, t, { htm: 'POST' })],
    ['the wrong URL', (k, t) => proof(k, t, { htu: 'https://api.example.com/other' })],
    ['another host', (k, t) => proof(k, t, { htu: 'https://evil.example.com/orders' })],
    ['a stale iat', (k, t) => proof(k, t, { iat: Math.floor(Date.now() / 1000) - 120 })],
    ['an iat in the future', (k, t) => proof(k, t, { iat: Math.floor(Date.now() / 1000) + 60 })],
    ['no ath', (k, t) => proof(k, t, { ath: null })],
    ['the ath of another token', (k, t) => proof(k, `${t}x`)],
    ['typ JWT', (k, t) => proof(k, t, { typ: 'JWT' })],
    ['no jti', async (k, t) => await proof(k, t, { jti: '' })],
    [
      'a private key in the header',
      async (k, t) => {
        const jwk = await exportJWK(k.privateKey);
        return proof(k, t, { jwk });
      },
    ],
    [
      'a signature by another key',
      async (k, t) => {
        const other = await clientKey();
        return proof(other, t, { jwk: k.jwk });
      },
    ],
    ['garbage', async () => 'not.a.proof'],
  ];

  it.each(cases)('refuses a proof with %s as invalid_dpop_proof', async (_name, make) => {
    const key = await clientKey();
    const token = await boundToken(key);
    await expect(
      verifier('required').authenticate(dpopRequest(token, await make(key, token))),
    ).rejects.toMatchObject({
      status: 401,
      error: 'invalid_dpop_proof',
      headers: {
        'WWW-Authenticate': `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid", algs="${ALGS}"`,
      },
    });
  });

  it('refuses a proof algorithm outside the configured list', async () => {
    const key = await clientKey('ed25519');
    const token = await boundToken(key);
    await expect(
      verifier({ mode: 'required', algorithms: ['ES256'] }).authenticate(
        dpopRequest(token, await proof(key, token)),
      ),
    ).rejects.toMatchObject({
      error: 'invalid_dpop_proof',
      headers: { 'WWW-Authenticate': expect.stringContaining('algs="ES256"') },
    });
  });

  it('refuses a request without a proof or with two (400)', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const one = await proof(key, token);
    for (const proofs of [undefined, [one, one]]) {
      await expect(
        verifier('allowed').authenticate(dpopRequest(token, proofs)),
      ).rejects.toMatchObject({
        status: 400,
        code: 'ERR_ZITAUTH_DPOP_PROOF_REQUIRED',
      });
    }
  });
});

describe('the binding', () => {
  it('refuses a proof by another key than the token is bound to', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const thief = await clientKey();
    await expect(
      verifier('allowed').authenticate(dpopRequest(token, await proof(thief, token))),
    ).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_DPOP_KEY_MISMATCH',
      headers: {
        'WWW-Authenticate': `Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="The access token is not bound to the DPoP proof key", algs="${ALGS}"`,
      },
    });
  });

  it('refuses an unbound token sent with the DPoP scheme', async () => {
    const key = await clientKey();
    const token = await boundToken();
    await expect(
      verifier('allowed').authenticate(dpopRequest(token, await proof(key, token))),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_DPOP_KEY_MISMATCH' });
  });

  it('refuses a bound token sent as Bearer (no downgrade), cached or not', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier('allowed');
    const downgrade = {
      status: 401,
      code: 'ERR_ZITAUTH_DPOP_REQUIRED',
      headers: {
        'WWW-Authenticate': `Bearer realm="api", error="invalid_token", error_description="The access token must be sent with a DPoP proof", DPoP realm="api", algs="${ALGS}"`,
      },
    };
    await expect(v.authenticate(bearerRequest(token))).rejects.toMatchObject(downgrade);
    await v.authenticate(dpopRequest(token, await proof(key, token)));
    expect(() => v.authenticateSync!(bearerRequest(token))).toThrow(
      expect.objectContaining(downgrade),
    );
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_DPOP_REQUIRED' });
  });

  it('accepts unbound bearer tokens in allowed mode and refuses them in required mode', async () => {
    const token = await boundToken();
    expect((await verifier('allowed').authenticate(bearerRequest(token)))?.subject).toBe('user-1');
    await expect(verifier('required').authenticate(bearerRequest(token))).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_DPOP_REQUIRED',
      headers: {
        'WWW-Authenticate': `DPoP realm="api", error="invalid_token", error_description="The access token must be sent with a DPoP proof", algs="${ALGS}"`,
      },
    });
  });

  it('keeps refusing bound tokens and ignoring the DPoP scheme when off (the default)', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier(undefined);
    await expect(v.authenticate(bearerRequest(token))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
    });
    await expect(v.authenticate(dpopRequest(token, await proof(key, token)))).rejects.toMatchObject(
      { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } },
    );
  });

  it('challenges with both schemes when no token is sent', async () => {
    await expect(verifier('allowed').authenticate({})).rejects.toMatchObject({
      headers: { 'WWW-Authenticate': `Bearer realm="api", DPoP realm="api", algs="${ALGS}"` },
    });
    await expect(
      verifier({ mode: 'required', algorithms: ['ES256', 'EdDSA'] }).authenticate({}),
    ).rejects.toMatchObject({
      headers: { 'WWW-Authenticate': 'DPoP realm="api", algs="ES256 EdDSA"' },
    });
  });

  it('accepts an introspected token bound to the proof key, only with DPoP on', async () => {
    const app = idp.createApiApp({ auth: 'basic' });
    const introspection = { clientId: app.clientId, clientSecret: app.clientSecret! };
    const key = await clientKey();
    const token = await idp.mintAccessToken({ format: 'opaque' });
    idp.faults.set('introspect', { addFields: { token_type: 'DPoP', cnf: { jkt: key.jkt } } });
    const on = verifier('allowed', { introspection });
    const auth = await on.authenticate(dpopRequest(token, await proof(key, token)));
    expect(auth?.tokenKind).toBe('opaque');
    await expect(on.authenticate(bearerRequest(token))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_DPOP_REQUIRED',
    });
    await expect(verifier('off', { introspection }).verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
    });
  });

  it('refuses a token with a confirmation method other than jkt even with DPoP on', async () => {
    const key = await clientKey();
    const token = await idp.signJwt(
      { alg: 'RS256' },
      claims({ cnf: { jkt: key.jkt, 'x5t#S256': 'cert' } }),
    );
    await expect(
      verifier('allowed').authenticate(dpopRequest(token, await proof(key, token))),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_TYPE' });
  });
});

describe('server nonces', () => {
  it('asks for a nonce with use_dpop_nonce and accepts the retry that carries it', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const v = verifier({ mode: 'required', nonce: { secret: 'x'.repeat(32) } });
    const first = v.authenticate(dpopRequest(token, await proof(key, token)));
    await expect(first).rejects.toMatchObject({
      status: 401,
      error: 'use_dpop_nonce',
      headers: {
        'WWW-Authenticate': expect.stringMatching(/^DPoP realm="api", error="use_dpop_nonce"/),
      },
    });
    const nonce = ((await first.catch((e: unknown) => e)) as { headers: Record<string, string> })
      .headers['DPoP-Nonce']!;
    expect(nonce).toMatch(/^[\w.-]+$/);
    const retry = dpopRequest(token, await proof(key, token, { nonce }));
    expect((await v.authenticate(retry))?.subject).toBe('user-1');
    await expect(
      v.authenticate(dpopRequest(token, await proof(key, token, { nonce: `${nonce}x` }))),
    ).rejects.toMatchObject({ error: 'use_dpop_nonce' });
  });

  it('accepts a nonce from another instance with the same secret, and not after two lifetimes', async () => {
    let time = Date.now();
    const now = () => time;
    const key = await clientKey();
    const token = await boundToken(key);
    const secret = 'a-shared-secret-of-32-bytes-or-more';
    const a = verifier({ mode: 'allowed', nonce: { secret, lifetimeMs: 60_000 } }, { now });
    const b = verifier({ mode: 'allowed', nonce: { secret, lifetimeMs: 60_000 } }, { now });
    const asked = await a
      .authenticate(dpopRequest(token, await proof(key, token)))
      .catch((e: unknown) => e);
    const nonce = (asked as { headers: Record<string, string> }).headers['DPoP-Nonce']!;
    const iat = () => Math.floor(time / 1000);
    expect(
      (await b.authenticate(dpopRequest(token, await proof(key, token, { nonce, iat: iat() }))))
        ?.subject,
    ).toBe('user-1');
    time += 120_001;
    await expect(
      b.authenticate(dpopRequest(token, await proof(key, token, { nonce, iat: iat() }))),
    ).rejects.toMatchObject({ error: 'use_dpop_nonce' });
  });
});

describe('a shared replay store', () => {
  function mapStore(): DpopReplayStore & { keys: Map<string, number> } {
    const keys = new Map<string, number>();
    return {
      keys,
      setIfAbsent: async (key, _value, ttlMs) => {
        if (keys.has(key)) return false;
        keys.set(key, ttlMs);
        return true;
      },
    };
  }

  it('refuses a proof replayed against another instance sharing the store', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const store = mapStore();
    const request = dpopRequest(token, await proof(key, token));
    const first = verifier({ mode: 'allowed', replayStore: store });
    const second = verifier({ mode: 'allowed', replayStore: store });
    expect((await first.authenticate(request))?.subject).toBe('user-1');
    // The proof id is kept while a proof could still be accepted: 60 s plus 5 s either way.
    expect([...store.keys.values()]).toEqual([70_000]);
    // A shared store is asynchronous, so a cached token with a proof needs authenticate.
    expect(second.authenticateSync!(request)).toBeUndefined();
    await expect(second.authenticate(request)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED',
    });
    expect(first.authenticateSync!(request)).toBeUndefined();
  });

  it('answers 503 when the store fails (a replay cannot be ruled out)', async () => {
    const key = await clientKey();
    const token = await boundToken(key);
    const broken: DpopReplayStore = { setIfAbsent: () => Promise.reject(new Error('down')) };
    await expect(
      verifier({ mode: 'allowed', replayStore: broken }).authenticate(
        dpopRequest(token, await proof(key, token)),
      ),
    ).rejects.toMatchObject({ status: 503 });
  });
});

describe('configuration', () => {
  it.each([
    ['an unknown mode', 'sometimes'],
    ['a symmetric algorithm', { mode: 'allowed', algorithms: ['HS256'] }],
    ['an external URL with a query', { mode: 'allowed', externalUrl: 'https://a.test/?x=1' }],
    ['a relative external URL', { mode: 'allowed', externalUrl: '/api' }],
    ['a replay store without setIfAbsent', { mode: 'allowed', replayStore: {} }],
    ['a short nonce secret', { mode: 'allowed', nonce: { secret: 'short' } }],
    ['a zero proof age', { mode: 'allowed', proofMaxAgeMs: 0 }],
  ])('refuses %s at start-up', (_name, dpop) => {
    expect(() => verifier(dpop as VerifierOptions['dpop'])).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_INVALID_OPTION' }),
    );
  });
});

describe('jwkThumbprint', () => {
  it.each(['ec', 'ed25519', 'rsa'] as const)(
    'equals jose for a %s key (RFC 7638)',
    async (type) => {
      const key = await clientKey(type);
      expect(jwkThumbprint({ ...key.jwk, alg: 'x', use: 'sig' } as Record<string, unknown>)).toBe(
        await calculateJwkThumbprint(key.jwk),
      );
    },
  );
});
