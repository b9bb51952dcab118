// The multi-issuer verifier against two real testing IdPs on 127.0.0.1: routing by `iss`
// to one issuer's keys only, unknown issuers refused without any IdP call, the opaque-token
// rule (configured order or a resolver), one issuer down, caches kept apart in one shared
// store, and the start-up checks.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  authenticateRequest,
  createMemoryStore,
  createMultiIssuerVerifier,
  createVerifier,
  requireIssuer,
  type CachedResult,
  type CacheStore,
  type IssuerOptions,
  type MultiIssuerOptions,
  type MultiIssuerVerifier,
  type TokenRequest,
  type VerifierOptions,
} from '../../src/index.js';

let a: TestIdp;
let b: TestIdp;
const verifiers: MultiIssuerVerifier[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startTestIdp(), startTestIdp({ algorithm: 'ES256' })]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
  for (const idp of [a, b]) {
    idp.faults.clear();
    idp.resetCalls();
  }
});

/** Every call an IdP received on the endpoints a verifier uses. */
function idpCalls(idp: TestIdp): number {
  return idp.calls('discovery') + idp.calls('keys') + idp.calls('introspect');
}

/** The entry of one IdP: its default project, Basic introspection credentials. */
function entry(idp: TestIdp, extra: Partial<IssuerOptions> = {}): IssuerOptions {
  const app = idp.createApiApp({ auth: 'basic' });
  return {
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection: { clientId: app.clientId, clientSecret: app.clientSecret },
    ...extra,
  };
}

function verifier(options: Partial<MultiIssuerOptions> = {}): MultiIssuerVerifier {
  const created = createMultiIssuerVerifier({ issuers: [entry(a), entry(b)], ...options });
  verifiers.push(created);
  return created;
}

const bearer = (token: string): TokenRequest => ({ authorization: `Bearer ${token}` });

describe('JWT routing by iss', () => {
  it('verifies each issuer’s JWT with that issuer’s keys and names the issuer', async () => {
    const v = verifier();
    const fromA = await v.verify(await a.mintAccessToken({ roles: ['admin'] }));
    const fromB = await v.verify(await b.mintAccessToken({ roles: ['reader'] }));
    expect(fromA).toMatchObject({ issuer: a.issuer, tokenKind: 'jwt' });
    expect(Object.keys(fromA.roles)).toEqual(['admin']);
    expect(fromB).toMatchObject({ issuer: b.issuer, tokenKind: 'jwt' });
    expect(Object.keys(fromB.roles)).toEqual(['reader']);
    expect(v.issuers).toEqual([a.issuer, b.issuer]);
    expect(v.issuer).toBe(a.issuer);
  });

  it('refuses an unknown iss before any IdP call', async () => {
    const v = verifier();
    const stranger = await a.mintAccessToken({ claims: { iss: 'https://stranger.example' } });
    const error = await v.verify(stranger).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
      headers: {
        'WWW-Authenticate':
          'Bearer realm="api", error="invalid_token", error_description="The access token issuer is not trusted"',
      },
    });
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });

  it('publishes a routing refusal on zitauth:refused under every trusted issuer', async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown): void => void seen.push(message);
    subscribe('zitauth:refused', listener);
    const stranger = await a.mintAccessToken({ claims: { iss: 'https://stranger.example' } });
    await expect(verifier().verify(stranger)).rejects.toMatchObject({ status: 401 });
    unsubscribe('zitauth:refused', listener);
    expect(seen).toEqual([
      expect.objectContaining({
        issuer: `${a.issuer} ${b.issuer}`,
        code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
        status: 401,
      }),
    ]);
  });

  it('refuses a JWT without iss, or whose payload is not a JSON object, without any IdP call', async () => {
    const v = verifier();
    const noIss = await a.mintAccessToken({ claims: { iss: undefined } });
    await expect(v.verify(noIss)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ISSUER_MISMATCH' });
    await expect(v.verify('eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln')).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
    });
    await expect(v.verify('eyJhbGciOiJSUzI1NiJ9.bnVsbA.c2ln')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
    });
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });

  it('never lets one issuer’s keys vouch for a token claiming the other issuer', async () => {
    const v = verifier();
    const forged = await a.mintAccessToken({ claims: { iss: b.issuer } });
    await expect(v.verify(forged)).rejects.toMatchObject({ status: 401 });
    expect(idpCalls(a)).toBe(0);
    expect(b.calls('keys')).toBeGreaterThan(0);
  });

  it('answers 503 for the issuer that is down and 200 for the other', async () => {
    const v = verifier();
    b.faults.set('discovery', { status: 500 });
    b.faults.set('keys', { status: 500 });
    await expect(v.verify(await b.mintAccessToken())).rejects.toMatchObject({
      status: 503,
      code: 'ERR_ZITAUTH_UPSTREAM',
    });
    await expect(v.verify(await a.mintAccessToken())).resolves.toMatchObject({
      issuer: a.issuer,
    });
  });
});

describe('opaque tokens', () => {
  it('go to the first issuer with introspection credentials, and only there', async () => {
    const v = createMultiIssuerVerifier({
      issuers: [{ issuer: a.issuer, projectId: a.defaultProject.id }, entry(b)],
    });
    verifiers.push(v);
    const fromB = await b.mintAccessToken({ format: 'opaque' });
    await expect(v.verify(fromB)).resolves.toMatchObject({ issuer: b.issuer, tokenKind: 'opaque' });
    const fromA = await a.mintAccessToken({ format: 'opaque' });
    await expect(v.verify(fromA)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_INACTIVE' });
    expect(a.calls('introspect')).toBe(0);
    expect(b.calls('introspect')).toBe(2);
  }, 30_000);

  it('go to the issuer a resolver picks from the request', async () => {
    const tenants: Record<string, string> = { alpha: a.issuer, beta: b.issuer };
    const v = verifier({
      opaqueIssuer: (request) => {
        const tenant = request.headers?.['x-tenant'];
        return typeof tenant === 'string' ? tenants[tenant] : undefined;
      },
    });
    const token = await b.mintAccessToken({ format: 'opaque' });
    const request = { ...bearer(token), headers: { 'x-tenant': 'beta' } };
    await expect(v.authenticate(request)).resolves.toMatchObject({ issuer: b.issuer });
    expect([a.calls('introspect'), b.calls('introspect')]).toEqual([0, 1]);
  });

  it('are refused without any IdP call when the resolver names no configured issuer', async () => {
    const v = verifier({ opaqueIssuer: () => 'https://stranger.example' });
    const token = await a.mintAccessToken({ format: 'opaque' });
    await expect(v.authenticate(bearer(token))).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
    });
    await expect(verifier({ opaqueIssuer: () => undefined }).verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
    });
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });

  it('go to a fixed issuer named by opaqueIssuer', async () => {
    const v = verifier({ opaqueIssuer: b.issuer });
    await expect(v.verify(await b.mintAccessToken({ format: 'opaque' }))).resolves.toMatchObject({
      issuer: b.issuer,
    });
    expect(a.calls('introspect')).toBe(0);
  });

  it('are refused as a token type when no issuer can introspect', async () => {
    const v = createMultiIssuerVerifier({
      issuers: [{ issuer: a.issuer, projectId: a.defaultProject.id }, entry(b, { mode: 'jwt' })],
      realm: 'quotes',
    });
    verifiers.push(v);
    const error = await v.verify(await a.mintAccessToken({ format: 'opaque' })).catch((e) => e);
    expect(error).toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
      headers: {
        'WWW-Authenticate':
          'Bearer realm="quotes", error="invalid_token", error_description="The access token type is not accepted"',
      },
    });
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });
});

describe('caches', () => {
  it('keep issuers apart in one shared store', async () => {
    const memory = createMemoryStore<CachedResult>();
    const keys: string[] = [];
    const store: CacheStore<CachedResult> = {
      get: (key) => memory.get(key),
      set: (key, value, ttl) => {
        keys.push(key);
        return memory.set(key, value, ttl);
      },
      delete: (key) => memory.delete(key),
    };
    const byTenant = (request: TokenRequest): string | undefined =>
      request.headers?.['x-tenant'] === 'beta' ? b.issuer : a.issuer;
    const v = createMultiIssuerVerifier({
      issuers: [entry(a, { cache: { store } }), entry(b, { cache: { store } })],
      opaqueIssuer: byTenant,
    });
    verifiers.push(v);
    const token = await a.mintAccessToken({ format: 'opaque' });
    await expect(v.authenticate(bearer(token))).resolves.toMatchObject({ issuer: a.issuer });
    const asBeta = { ...bearer(token), headers: { 'x-tenant': 'beta' } };
    await expect(v.authenticate(asBeta)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_INACTIVE',
    });
    expect([a.calls('introspect'), b.calls('introspect')]).toEqual([1, 1]);
    const [keyA, keyB] = keys;
    expect(keys).toHaveLength(2);
    expect(keyA!.split(':').slice(0, -1)).not.toEqual(keyB!.split(':').slice(0, -1));
    expect(keyA!.split(':').at(-1)).toBe(keyB!.split(':').at(-1));
    expect(keys.join()).not.toContain(token);
    await expect(v.authenticate(bearer(token))).resolves.toMatchObject({ issuer: a.issuer });
    expect(a.calls('introspect')).toBe(1);
  });
});

describe('requests', () => {
  it('answers a request without a token with a bare challenge, or null when optional', async () => {
    const v = verifier({ realm: 'quotes' });
    await expect(v.authenticate({})).rejects.toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer realm="quotes"' },
    });
    await expect(v.authenticate({}, { required: false })).resolves.toBeNull();
  });

  it('refuses an oversized token before decoding it and an empty one as malformed', async () => {
    const v = verifier({ maxTokenBytes: 64 });
    const token = await a.mintAccessToken();
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_TOO_LARGE' });
    await expect(v.authenticate(bearer(token))).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_TOO_LARGE',
    });
    await expect(v.verify('')).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_MALFORMED' });
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });

  it('passes a resolver’s own failure through unchanged', async () => {
    const v = verifier({
      opaqueIssuer: () => {
        throw new RangeError('tenant table not loaded');
      },
    });
    await expect(v.verify('opaque-token')).rejects.toThrow(RangeError);
  });

  it('aborts IdP calls in flight on close, for every issuer', async () => {
    a.faults.set('discovery', { latencyMs: 5_000 });
    b.faults.set('discovery', { latencyMs: 5_000 });
    const v = verifier();
    const pending = [a, b].map(async (idp) => v.verify(await idp.mintAccessToken()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    v.close();
    for (const call of pending) await expect(call).rejects.toMatchObject({ status: 503 });
  });
});

describe('requireIssuer', () => {
  it('allows callers of the named issuer and refuses the other with 403', async () => {
    const v = verifier();
    const onlyA = requireIssuer(a.issuer);
    expect(() => onlyA(null)).toThrow(expect.objectContaining({ status: 401 }));
    expect(onlyA(await v.verify(await a.mintAccessToken()))).toBeUndefined();
    const fromB = await v.verify(await b.mintAccessToken());
    expect(() => onlyA(fromB, { realm: 'quotes' })).toThrow(
      expect.objectContaining({
        status: 403,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="quotes", error="insufficient_scope", error_description="The access token does not grant the required permission"',
        },
      }),
    );
    expect(requireIssuer([a.issuer, b.issuer])(fromB)).toBeUndefined();
    expect(() => requireIssuer([])).toThrow(/requireIssuer needs at least one/);
  });
});

describe('configuration', () => {
  const one = (): IssuerOptions => ({ issuer: 'https://a.example', projectId: 'p' });

  it.each([
    [undefined, /needs \{ issuers/],
    [{ issuers: [] }, /issuers must be a non-empty array/],
    [{ issuers: [null] }, /issuers\[0\] must be an object/],
    [{ issuers: [{ ...one(), realm: 'x' }] }, /issuers\[0\]\.realm: set realm once/],
    [{ issuer: 'https://a.example', issuers: [one()] }, /set issuer inside each entry/],
    [{ issuers: [one()], projectId: 'p' }, /unknown option "projectId" beside issuers/],
    [{ issuers: [one(), one()] }, /https:\/\/a\.example is listed twice/],
    [{ issuers: [one()], opaqueIssuer: 'https://b.example' }, /opaqueIssuer must be one of/],
    [{ issuers: [{ ...one(), dpop: 'allowed' }] }, /issuers\[0\]\.dpop: DPoP needs a single/],
    [
      { issuers: [one(), { issuer: 'http://evil.example', projectId: 'p' }] },
      /issuer must use https/,
    ],
  ])('refuses %j at start-up', (options, message) => {
    expect(() => createMultiIssuerVerifier(options as MultiIssuerOptions)).toThrow(message);
  });

  it('points createVerifier given issuers to createMultiIssuerVerifier', () => {
    const options = { issuers: [one()] } as unknown as VerifierOptions;
    expect(() => createVerifier(options)).toThrow(
      /several issuers need createMultiIssuerVerifier\(\{ issuers \}\)/,
    );
  });
});

describe('authenticateSync', () => {
  it('answers a cached token of either issuer from memory, and undefined before it is cached', async () => {
    const v = verifier();
    for (const idp of [a, b]) {
      const request = bearer(await idp.mintAccessToken());
      expect(v.authenticateSync!(request)).toBeUndefined();
      const caller = await v.authenticate(request);
      expect(v.authenticateSync!(request)).toBe(caller);
      expect(caller).toMatchObject({ issuer: idp.issuer });
    }
  });

  it('answers a cached opaque token through the issuer the rule picks', async () => {
    const v = verifier({
      opaqueIssuer: (request) => (request.headers?.['x-tenant'] === 'b' ? b.issuer : a.issuer),
    });
    const request = {
      ...bearer(await b.mintAccessToken({ format: 'opaque' })),
      headers: { 'x-tenant': 'b' },
    };
    expect(v.authenticateSync!(request)).toBeUndefined();
    const caller = await v.authenticate(request);
    expect(v.authenticateSync!(request)).toBe(caller);
    expect(caller).toMatchObject({ issuer: b.issuer, tokenKind: 'opaque' });
    // The same token routed to the other issuer is not in that issuer's cache.
    expect(v.authenticateSync!({ ...request, headers: { 'x-tenant': 'a' } })).toBeUndefined();
  });

  it('answers no token, an unknown issuer and a malformed request without a promise', async () => {
    const v = verifier({ realm: 'quotes' });
    expect(v.authenticateSync!({}, { required: false })).toBeNull();
    expect(() => v.authenticateSync!({})).toThrow(
      expect.objectContaining({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="quotes"' },
      }),
    );
    const stranger = await a.mintAccessToken({ claims: { iss: 'https://stranger.example' } });
    expect(() => v.authenticateSync!(bearer(stranger))).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_ISSUER_MISMATCH' }),
    );
    expect(() => v.authenticateSync!({ authorization: ['Bearer x', 'Bearer y'] })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect([idpCalls(a), idpCalls(b)]).toEqual([0, 0]);
  });

  it('answers a refusal cached by the owning issuer', async () => {
    const v = verifier();
    const expired = bearer(await b.mintAccessToken({ expiresInSeconds: -60 }));
    await expect(v.authenticate(expired)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_EXPIRED',
    });
    expect(() => v.authenticateSync!(expired)).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_TOKEN_EXPIRED' }),
    );
  });

  it('serves adapters synchronously through authenticateRequest', async () => {
    const v = verifier();
    const request = bearer(await a.mintAccessToken());
    const caller = await authenticateRequest(v, request, true);
    expect(authenticateRequest(v, request, true)).toBe(caller);
  });
});
