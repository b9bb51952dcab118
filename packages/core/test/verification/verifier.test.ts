// Integration tests of the whole pipeline over HTTP against the real testing IdP on
// 127.0.0.1: JWT and opaque tokens, both introspection client auths, rotation,
// revocation, caching, outages and every refused input the foundation must show.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/index.js';

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
  idp.resetCalls();
});

/** A verifier for the default project, closed after each test. */
function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  verifiers.push(created);
  return created;
}

function basicAuth(): NonNullable<VerifierOptions['introspection']> {
  const app = idp.createApiApp({ auth: 'basic' });
  return { clientId: app.clientId, clientSecret: app.clientSecret! };
}

/** A clock the test moves by hand. */
function clock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function segment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('local JWT verification', () => {
  it('accepts a ZITADEL JWT access token and normalizes its claims', async () => {
    const token = await idp.mintAccessToken({
      roles: ['editor'],
      subject: 'user-1',
      scope: 'openid urn:zitadel:iam:user:resourceowner',
    });
    const auth = await verifier().verify(token);
    expect(auth).toMatchObject({
      subject: 'user-1',
      issuer: idp.issuer,
      tokenKind: 'jwt',
      orgId: idp.defaultOrg.id,
      roles: { editor: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain } },
    });
    expect(auth.audience).toContain(idp.defaultProject.id);
    expect(auth.tokenId).toEqual(expect.any(String));
    expect(auth.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  // ZITADEL sends the resourceowner claims only for urn:zitadel:iam:user:resourceowner.
  it('leaves orgId undefined for a token issued without the resourceowner scope', async () => {
    const auth = await verifier().verify(await idp.mintAccessToken({ roles: ['editor'] }));
    expect(auth.orgId).toBeUndefined();
    expect(auth.roles).toEqual({ editor: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain } });
  });

  it('authenticates a request through its Authorization header', async () => {
    const token = await idp.mintAccessToken();
    const auth = await verifier().authenticate({ authorization: [`Bearer ${token}`] });
    expect(auth?.tokenKind).toBe('jwt');
  });

  it('answers a bare challenge without credentials, or null when auth is optional', async () => {
    const v = verifier({ realm: 'quotes' });
    await expect(v.authenticate({})).rejects.toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="quotes"' },
    });
    await expect(v.authenticate({}, { required: false })).resolves.toBeNull();
  });

  it('verifies tokens of every supported algorithm', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const) {
      const kid = await idp.keys.add(alg);
      const token = await idp.mintAccessToken({ kid, alg });
      await expect(verifier().verify(token)).resolves.toMatchObject({ tokenKind: 'jwt' });
      idp.keys.remove(kid);
    }
  });

  it('picks up a rotated signing key without a restart', async () => {
    const v = verifier({ jwks: { cooldownMs: 0 } });
    await v.verify(await idp.mintAccessToken());
    await idp.keys.rotate();
    await expect(v.verify(await idp.mintAccessToken())).resolves.toMatchObject({
      tokenKind: 'jwt',
    });
  });

  it('fetches the key set at most once per cooldown during an unknown-kid flood', async () => {
    const v = verifier({ cache: { enabled: false } });
    await v.verify(await idp.mintAccessToken());
    idp.resetCalls();
    const header = { alg: 'RS256', typ: 'JWT' };
    const forged = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        idp.signJwt({ ...header, kid: `unknown-${i}` }, { iss: idp.issuer, sub: 'x', exp: 2e9 }),
      ),
    );
    const results = await Promise.allSettled(forged.map((token) => v.verify(token)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(results[0]).toMatchObject({
      reason: { code: 'ERR_ZITAUTH_KEY_NOT_FOUND', status: 401 },
    });
    expect(idp.calls('keys')).toBeLessThanOrEqual(1);
  });

  it('keeps verifying with known keys while the IdP is down', async () => {
    const time = clock();
    const v = verifier({ now: time.now, cache: { enabled: false } });
    const token = await idp.mintAccessToken();
    await v.verify(token);
    idp.faults.set('keys', { status: 503 });
    idp.faults.set('discovery', { closeConnection: true });
    time.advance(600_000);
    await expect(v.verify(token)).resolves.toMatchObject({ tokenKind: 'jwt' });
  });

  it('answers 503 when the IdP is down on a cold start', async () => {
    idp.faults.set('discovery', { status: 500 });
    const v = verifier();
    const error = await v.verify(await idp.mintAccessToken()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 503,
      code: 'ERR_ZITAUTH_UPSTREAM',
      headers: { 'WWW-Authenticate': 'Bearer realm="api"', 'Retry-After': '5' },
      body: { error: 'temporarily_unavailable' },
    });
  });

  it('answers 503 when the IdP times out', async () => {
    idp.faults.set('keys', { latencyMs: 2_000 });
    const v = verifier({ timeoutMs: 100 });
    await expect(v.verify(await idp.mintAccessToken())).rejects.toMatchObject({
      status: 503,
      code: 'ERR_ZITAUTH_UPSTREAM_TIMEOUT',
    });
  });

  it('answers 503 for a garbage key set', async () => {
    idp.faults.set('keys', { body: 'garbage' });
    await expect(verifier().verify(await idp.mintAccessToken())).rejects.toMatchObject({
      status: 503,
    });
  });
});

describe('verify and authenticate edges', () => {
  it('refuses an empty token', async () => {
    await expect(verifier().verify('')).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
    });
  });

  it('uses the configured realm in every challenge', async () => {
    const error = await verifier({ realm: 'quotes' })
      .verify(await idp.mintAccessToken({ expiresInSeconds: -60 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      headers: {
        'WWW-Authenticate':
          'Bearer realm="quotes", error="invalid_token", error_description="The access token expired"',
      },
    });
  });

  it('reads a query token only when enabled', async () => {
    const token = await idp.mintAccessToken();
    await expect(verifier().authenticate({ query: token })).rejects.toMatchObject({ status: 401 });
    await expect(
      verifier({ tokenTransport: { query: true } }).authenticate({ query: token }),
    ).resolves.toMatchObject({ tokenKind: 'jwt' });
  });

  it('lets a failing roles mapper surface as a programming error', async () => {
    const bug = new Error('mapper bug');
    const v = verifier({
      roles: () => {
        throw bug;
      },
    });
    await expect(v.verify(await idp.mintAccessToken())).rejects.toBe(bug);
  });

  it('accepts access tokens without jti when requireJti is off, still refusing ID tokens', async () => {
    const withoutJti = await idp.mintAccessToken({ claims: { jti: undefined } });
    await expect(verifier().verify(withoutJti)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ID_TOKEN',
    });
    await expect(verifier({ requireJti: false }).verify(withoutJti)).resolves.toMatchObject({
      tokenId: undefined,
    });
    await expect(
      verifier({ requireJti: false }).verify(await idp.mintIdToken({ nonce: 'n' })),
    ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ID_TOKEN' });
  });

  it('maps roles with a custom claim name', async () => {
    const token = await idp.mintAccessToken({ claims: { groups: ['admins'] } });
    await expect(verifier({ roles: 'groups' }).verify(token)).resolves.toMatchObject({
      roles: { admins: {} },
    });
  });
});

describe('refused tokens', () => {
  async function rejects(token: string, code: string, options: Partial<VerifierOptions> = {}) {
    const error = await verifier(options)
      .verify(token)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code, error: 'invalid_token' });
    expect(JSON.stringify(error)).not.toContain(token);
    expect(String(error)).not.toContain(token);
  }

  it('refuses alg none', async () => {
    const token = `${segment({ alg: 'none', typ: 'JWT' })}.${segment({ iss: idp.issuer, sub: 'x', aud: [idp.defaultProject.id], exp: 2e9, jti: 'j' })}.`;
    await rejects(token, 'ERR_ZITAUTH_ALG_NOT_ALLOWED');
    expect(idp.calls('keys')).toBe(0);
  });

  it('refuses HS256 signed with the public key as secret', async () => {
    const jwks = (await (await fetch(`${idp.issuer}/oauth/v2/keys`)).json()) as {
      keys: JsonWebKey[];
    };
    const pem = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const token = await new SignJWT({ aud: [idp.defaultProject.id], jti: 'j' })
      .setProtectedHeader({
        alg: 'HS256',
        typ: 'JWT',
        kid: String(jwks.keys[0]!['kid' as keyof JsonWebKey]),
      })
      .setIssuer(idp.issuer)
      .setSubject('attacker')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(String(pem)));
    await rejects(token, 'ERR_ZITAUTH_ALG_NOT_ALLOWED');
  });

  it('refuses a bad signature', async () => {
    const token = await idp.mintAccessToken();
    const [h, p] = token.split('.');
    const other = (await idp.mintAccessToken({ subject: 'someone-else' })).split('.')[2];
    await rejects(`${h}.${p}.${other}`, 'ERR_ZITAUTH_SIGNATURE_INVALID');
  });

  it('refuses a wrong issuer', async () => {
    await rejects(
      await idp.mintAccessToken({ claims: { iss: 'https://evil.example' } }),
      'ERR_ZITAUTH_ISSUER_MISMATCH',
    );
    await rejects(
      await idp.mintAccessToken({ claims: { iss: `${idp.issuer}/` } }),
      'ERR_ZITAUTH_ISSUER_MISMATCH',
    );
  });

  it('refuses a token for another audience', async () => {
    await rejects(
      await idp.mintAccessToken({ audience: ['another-project'] }),
      'ERR_ZITAUTH_AUDIENCE_MISMATCH',
    );
  });

  it('refuses expired, not yet valid and exp-less tokens', async () => {
    await rejects(
      await idp.mintAccessToken({ expiresInSeconds: -60 }),
      'ERR_ZITAUTH_TOKEN_EXPIRED',
    );
    await rejects(
      await idp.mintAccessToken({ notBeforeSeconds: 600 }),
      'ERR_ZITAUTH_TOKEN_NOT_YET_VALID',
    );
    await rejects(
      await idp.mintAccessToken({ claims: { exp: undefined } }),
      'ERR_ZITAUTH_CLAIM_INVALID',
    );
  });

  it('refuses an ID token presented as an access token', async () => {
    await rejects(await idp.mintIdToken({ nonce: 'n-1' }), 'ERR_ZITAUTH_ID_TOKEN');
  });

  it('refuses an oversized token before decoding it', async () => {
    const token = await idp.mintAccessToken({ claims: { padding: 'x'.repeat(9_000) } });
    await rejects(token, 'ERR_ZITAUTH_TOKEN_TOO_LARGE');
    expect(idp.calls('keys')).toBe(0);
  });

  it('counts the size cap in bytes and checks the syntax of a token memory does not know', async () => {
    // 3,000 three-byte characters: under the cap in characters, over it in bytes.
    await rejects(`ey${'€'.repeat(3_000)}`, 'ERR_ZITAUTH_TOKEN_TOO_LARGE');
    await rejects('not a b64token', 'ERR_ZITAUTH_TOKEN_MALFORMED');
    const v = verifier();
    const request = (token: string) => ({ authorization: [`Bearer ${token}`] });
    for (const token of ['a b', 'ab\u00e9', `ey${'€'.repeat(3_000)}`]) {
      // Without a promise (memory has nothing that needs I/O) or with one: a 401 either way.
      expect(() => v.authenticateSync!(request(token))).toThrow(
        expect.objectContaining({ status: 401 }),
      );
      await expect(v.authenticate(request(token))).rejects.toMatchObject({ status: 401 });
    }
    expect(idp.calls('keys')).toBe(0);
  });

  it('refuses malformed segments', async () => {
    // The signature is checked before the payload is parsed, so a garbage payload fails there.
    const [header] = (await idp.mintAccessToken()).split('.');
    await rejects(`${header}.not-json.sig`, 'ERR_ZITAUTH_SIGNATURE_INVALID', { mode: 'jwt' });
    await rejects('a.b.c.d', 'ERR_ZITAUTH_TOKEN_MALFORMED', { mode: 'jwt' });
    await rejects('eyJub3QganNvbg.e30.c2ln', 'ERR_ZITAUTH_TOKEN_MALFORMED', { mode: 'jwt' });
    await rejects('opaque-token', 'ERR_ZITAUTH_TOKEN_MALFORMED', { mode: 'jwt' });
  });

  it('refuses an opaque token when no introspection is configured', async () => {
    await rejects(await idp.mintAccessToken({ format: 'opaque' }), 'ERR_ZITAUTH_TOKEN_TYPE');
  });

  it('refuses tokens issued to clients that are not allowed', async () => {
    const token = await idp.mintAccessToken({ clientId: 'other@project' });
    await rejects(token, 'ERR_ZITAUTH_CLIENT_NOT_ALLOWED', { allowedClientIds: ['mine@project'] });
  });
});

describe('introspection', () => {
  it('accepts an active opaque token with Basic client auth', async () => {
    const token = await idp.mintAccessToken({ format: 'opaque', roles: ['reader'] });
    const auth = await verifier({ introspection: basicAuth() }).verify(token);
    expect(auth).toMatchObject({
      tokenKind: 'opaque',
      roles: { reader: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain } },
    });
    expect(idp.calls('introspect')).toBe(1);
  });

  it("authenticates with ZITADEL's documented Basic vector", async () => {
    idp.createApiApp({
      auth: 'basic',
      clientId: '78366401571920522@amce',
      clientSecret: 'veryweaksecret!',
    });
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const v = verifier({
      introspection: { clientId: '78366401571920522@amce', clientSecret: 'veryweaksecret!' },
    });
    await expect(v.verify(token)).resolves.toMatchObject({ tokenKind: 'opaque' });
  });

  it('accepts an active opaque token with a key file given as path, JSON text or object', async () => {
    const app = idp.createApiApp({ auth: 'private_key_jwt' });
    const path = await idp.writeKeyFile(app.keyFile!);
    const escaped = JSON.stringify(app.keyFile).replace(/\\n/g, '\\\\n');
    for (const keyFile of [path, JSON.stringify(app.keyFile), escaped, app.keyFile!]) {
      const token = await idp.mintAccessToken({ format: 'opaque' });
      await expect(verifier({ introspection: { keyFile } }).verify(token)).resolves.toMatchObject({
        tokenKind: 'opaque',
      });
    }
  });

  it('refuses an inactive opaque token and caches the answer briefly', async () => {
    const v = verifier({ introspection: basicAuth() });
    await expect(v.verify('not-a-real-token')).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_INACTIVE',
    });
    await expect(v.verify('not-a-real-token')).rejects.toMatchObject({ status: 401 });
    expect(idp.calls('introspect')).toBe(1);
  });

  it('shares one introspection call among 100 concurrent requests for one token', async () => {
    const v = verifier({ introspection: basicAuth() });
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const results = await Promise.all(Array.from({ length: 100 }, () => v.verify(token)));
    expect(results).toHaveLength(100);
    expect(idp.calls('introspect')).toBe(1);
  });

  it('sees a revocation once the cached result expires', async () => {
    const time = clock();
    const v = verifier({ introspection: basicAuth(), now: time.now, cache: { maxTtlMs: 30_000 } });
    const token = await idp.mintAccessToken({ format: 'opaque' });
    await v.verify(token);
    idp.revoke(token);
    await expect(v.verify(token)).resolves.toMatchObject({ tokenKind: 'opaque' });
    time.advance(30_001);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_INACTIVE' });
  });

  it('sees the revocation of a JWT with introspectJwt', async () => {
    const v = verifier({
      introspection: basicAuth(),
      introspectJwt: true,
      cache: { enabled: false },
    });
    const token = await idp.mintAccessToken();
    await expect(v.verify(token)).resolves.toMatchObject({ tokenKind: 'jwt' });
    idp.revoke(token);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_INACTIVE' });
  });

  // ZITADEL's JWT access tokens carry no scope; its introspection answers do.
  it('reads the scope of a ZITADEL JWT from introspection with introspectJwt', async () => {
    const token = await idp.mintAccessToken({ scope: 'openid quotes:read' });
    await expect(verifier().verify(token)).resolves.toMatchObject({ scopes: [] });
    const v = verifier({ introspection: basicAuth(), introspectJwt: true });
    await expect(v.verify(token)).resolves.toMatchObject({
      tokenKind: 'jwt',
      scopes: ['openid', 'quotes:read'],
    });
  });

  it('introspects JWTs too in introspect mode', async () => {
    const v = verifier({ mode: 'introspect', introspection: basicAuth() });
    await expect(v.verify(await idp.mintAccessToken())).resolves.toMatchObject({
      tokenKind: 'jwt',
    });
    expect(idp.calls('keys')).toBe(0);
    expect(idp.calls('introspect')).toBe(1);
  });

  it('never caches past the token expiry', async () => {
    const token = await idp.mintAccessToken({ format: 'opaque', expiresInSeconds: 10 });
    // The clock starts after minting: started before, a second boundary in between would
    // put the token's nbf ahead of it (no clock tolerance here).
    const time = clock();
    const v = verifier({ introspection: basicAuth(), now: time.now, clockToleranceMs: 0 });
    await v.verify(token);
    time.advance(11_000);
    await expect(v.verify(token)).rejects.toMatchObject({ status: 401 });
  });

  it('answers 503, not invalid_token, when our introspection credentials are wrong', async () => {
    const v = verifier({ introspection: { clientId: 'nobody@project', clientSecret: 'wrong' } });
    await expect(v.verify(await idp.mintAccessToken({ format: 'opaque' }))).rejects.toMatchObject({
      status: 503,
    });
  });

  it('answers 503 when introspection fails', async () => {
    idp.faults.set('introspect', { status: 502 });
    const v = verifier({ introspection: basicAuth() });
    await expect(v.verify(await idp.mintAccessToken({ format: 'opaque' }))).rejects.toMatchObject({
      status: 503,
    });
  });

  it('refuses an opaque token meant for another project', async () => {
    const other = idp.createProject({ roles: ['x'] });
    const token = await idp.mintAccessToken({
      format: 'opaque',
      projectId: other.id,
      audience: [other.id],
    });
    await expect(verifier({ introspection: basicAuth() }).verify(token)).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe('caching', () => {
  it('keeps tokens out of the cache keys of a custom store', async () => {
    const keys: string[] = [];
    const entries = new Map<string, unknown>();
    const token = await idp.mintAccessToken();
    const v = verifier({
      cache: {
        store: {
          get: (key) => entries.get(key) as never,
          set: (key, value) => {
            keys.push(key);
            entries.set(key, value);
          },
          delete: (key) => {
            entries.delete(key);
          },
        },
      },
    });
    await v.verify(token);
    await v.verify(token);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(token.split('.')[2]!.slice(0, 20));
    expect(keys[0]).toMatch(/^zitauth:[\w-]+:[\w-]{43}$/);
  });

  it('degrades to a miss when the shared store fails', async () => {
    const v = verifier({
      cache: {
        store: {
          get: () => Promise.reject(new Error('store down')),
          set: () => Promise.reject(new Error('store down')),
          delete: () => undefined,
        },
      },
    });
    await expect(v.verify(await idp.mintAccessToken())).resolves.toMatchObject({
      tokenKind: 'jwt',
    });
  });

  it("fills a miss through the store's fill, with a time to live bounded by exp", async () => {
    const fills: { key: string; ttlMs: number }[] = [];
    const v = verifier({
      cache: {
        maxTtlMs: 30_000,
        store: {
          get: () => undefined,
          set: () => undefined,
          delete: () => undefined,
          fill: async (key, load) => {
            const { value, ttlMs } = await load();
            fills.push({ key, ttlMs });
            return value;
          },
        },
      },
    });
    const token = await idp.mintAccessToken({ subject: 'filled' });
    const [a, b] = await Promise.all([v.verify(token), v.verify(token)]);
    expect([a.subject, b.subject]).toEqual(['filled', 'filled']);
    expect(fills).toHaveLength(1);
    expect(fills[0]!.key).toMatch(/^zitauth:[\w-]+:[\w-]{43}$/);
    expect(fills[0]!.ttlMs).toBeGreaterThan(0);
    expect(fills[0]!.ttlMs).toBeLessThanOrEqual(30_000);
  });

  it('keeps one frozen context per token, sharing role maps and audiences between tokens', async () => {
    const v = verifier();
    const first = await v.verify(await idp.mintAccessToken({ subject: 'a', roles: ['editor'] }));
    const second = await v.verify(await idp.mintAccessToken({ subject: 'b', roles: ['editor'] }));
    expect(first.roles).toBe(second.roles);
    expect(first.audience).toBe(second.audience);
    expect(Object.isFrozen(first.roles['editor'])).toBe(true);
    expect(Object.isFrozen(first.claims)).toBe(true);
    const other = await v.verify(await idp.mintAccessToken({ subject: 'c', roles: ['viewer'] }));
    expect(other.roles).not.toBe(first.roles);
    expect(other.roles).toEqual({ viewer: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain } });
  });

  it('shares frozen role maps with caching off too, and nothing else', async () => {
    const v = verifier({ cache: { enabled: false } });
    const first = await v.verify(await idp.mintAccessToken({ subject: 'a', roles: ['editor'] }));
    const second = await v.verify(await idp.mintAccessToken({ subject: 'b', roles: ['editor'] }));
    expect(first.roles).toBe(second.roles);
    expect(Object.isFrozen(first.roles['editor'])).toBe(true);
    // Claim values are only shared for contexts a cache keeps.
    expect(first.claims['aud']).not.toBe(second.claims['aud']);
    expect(first.claims['aud']).toEqual(second.claims['aud']);
  });

  it('aborts IdP calls in flight on close', async () => {
    idp.faults.set('discovery', { latencyMs: 5_000 });
    const v = verifier();
    const pending = v.verify(await idp.mintAccessToken());
    v.close();
    await expect(pending).rejects.toMatchObject({ status: 503 });
  });
});

describe('answers from memory', () => {
  it('answers a cached token synchronously, and a token not yet checked with undefined', async () => {
    const v = verifier();
    const request = { authorization: `Bearer ${await idp.mintAccessToken()}` };
    expect(v.authenticateSync!(request)).toBeUndefined();
    const caller = await v.authenticate(request);
    expect(v.authenticateSync!(request)).toBe(caller);
  });

  it('answers a request without a token synchronously', () => {
    const v = verifier({ realm: 'quotes' });
    expect(v.authenticateSync!({}, { required: false })).toBeNull();
    expect(() => v.authenticateSync!({})).toThrow(
      expect.objectContaining({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="quotes"' },
      }),
    );
  });

  it('leaves a configured store to the asynchronous path', async () => {
    const entries = new Map<string, unknown>();
    const v = verifier({
      cache: {
        store: {
          get: (key) => entries.get(key) as never,
          set: (key, value) => void entries.set(key, value),
          delete: (key) => void entries.delete(key),
        },
      },
    });
    const request = { authorization: `Bearer ${await idp.mintAccessToken()}` };
    await v.authenticate(request);
    expect(entries.size).toBe(1);
    expect(v.authenticateSync!(request)).toBeUndefined();
  });

  it('refuses a bad signature from memory the second time, with the same challenge', async () => {
    const v = verifier({ realm: 'quotes' });
    const token = await idp.mintAccessToken();
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(342)}`;
    const request = { authorization: `Bearer ${forged}` };
    const expected = {
      status: 401,
      code: 'ERR_ZITAUTH_SIGNATURE_INVALID',
      headers: {
        'WWW-Authenticate':
          'Bearer realm="quotes", error="invalid_token", error_description="The access token signature is invalid"',
      },
    };
    expect(v.authenticateSync!(request)).toBeUndefined();
    await expect(v.authenticate(request)).rejects.toMatchObject(expected);
    expect(() => v.authenticateSync!(request)).toThrow(expect.objectContaining(expected));
    await expect(v.verify(forged)).rejects.toMatchObject(expected);
  });

  it('remembers a lasting refusal of an introspected token without asking the IdP again', async () => {
    const time = clock();
    const v = verifier({
      introspection: basicAuth(),
      allowedClientIds: ['someone-else'],
      now: time.now,
    });
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const refused = { status: 401, code: 'ERR_ZITAUTH_CLIENT_NOT_ALLOWED' };
    await expect(v.verify(token)).rejects.toMatchObject(refused);
    await expect(v.verify(token)).rejects.toMatchObject(refused);
    expect(idp.calls('introspect')).toBe(1);
    time.advance(5_001);
    await expect(v.verify(token)).rejects.toMatchObject(refused);
    expect(idp.calls('introspect')).toBe(2);
  });

  it('never remembers a refusal that may turn into an acceptance', async () => {
    let now = Date.now();
    const v = verifier({ now: () => now });
    const token = await idp.mintAccessToken({ notBeforeSeconds: 600 });
    const request = { authorization: `Bearer ${token}` };
    await expect(v.authenticate(request)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_NOT_YET_VALID',
    });
    // Ten minutes later the same token is checked afresh (a remembered refusal would be
    // thrown from memory here), and accepted.
    now += 700_000;
    expect(v.authenticateSync!(request)).toBeUndefined();
    await expect(v.authenticate(request)).resolves.toMatchObject({ tokenKind: 'jwt' });
  });
});
