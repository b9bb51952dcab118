// The strict defaults through the public API against the real testing IdP: role maps
// that a crafted role name cannot bend, and a shared cache that never hands a lenient
// verifier's result to a stricter one.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  createMemoryStore,
  createVerifier,
  type CachedResult,
  type Verifier,
  type VerifierOptions,
} from '../../src/index.js';

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

function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  verifiers.push(created);
  return created;
}

/** Claims of a valid access token, for tokens signed by hand. */
function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: idp.issuer,
    sub: 'user-1',
    aud: [idp.defaultProject.id],
    client_id: idp.defaultProject.clientId,
    jti: `V2_${now}-at_${Math.random()}`,
    iat: now,
    exp: now + 600,
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides))
    if (value === undefined) delete claims[name];
  return claims;
}

describe('role maps', () => {
  it('keeps a role named __proto__ from changing what other role lookups say', async () => {
    const roles = JSON.parse(
      `{"__proto__":{"admin":{"${idp.defaultOrg.id}":"x"}},"reader":{"o":"d"}}`,
    ) as unknown;
    const claims = accessClaims({ 'urn:zitadel:iam:org:project:roles': roles });
    const auth = await verifier().verify(await idp.signJwt({ alg: 'RS256' }, claims));
    expect('admin' in auth.roles).toBe(false);
    expect(auth.roles['admin']).toBeUndefined();
    expect(Object.keys(auth.roles)).toEqual(['__proto__', 'reader']);
    expect('reader' in auth.roles).toBe(true);
  });
});

describe('introspection answers', () => {
  async function introspecting(): Promise<Verifier> {
    const app = idp.createApiApp({ auth: 'basic' });
    return verifier({ introspection: { clientId: app.clientId, clientSecret: app.clientSecret } });
  }

  it('never caches an answer without active: the next call asks again and succeeds', async () => {
    const v = await introspecting();
    const token = await idp.mintAccessToken({ format: 'opaque', subject: 'user-1' });
    idp.faults.set('introspect', { omitFields: ['active'] });
    await expect(v.verify(token)).rejects.toMatchObject({ status: 503 });
    idp.faults.clear();
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
  });

  it('refuses an answer sent as HTML even when its body is valid JSON', async () => {
    const v = await introspecting();
    const token = await idp.mintAccessToken({ format: 'opaque', subject: 'user-1' });
    idp.faults.set('introspect', { contentType: 'text/html' });
    await expect(v.verify(token)).rejects.toMatchObject({ status: 503 });
  });

  it('refuses a JWT that carries cnf (sender-constrained) as not a bearer token', async () => {
    const claims = accessClaims({ cnf: { jkt: 'thumbprint' } });
    const token = await idp.signJwt({ alg: 'RS256' }, claims);
    await expect(verifier().verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
    });
  });
});

describe('a cache store shared by verifiers of different policies', () => {
  async function sharedBy(lenient: Partial<VerifierOptions>, strict: Partial<VerifierOptions>) {
    const store = createMemoryStore<CachedResult>();
    return {
      lenient: verifier({ ...lenient, cache: { store } }),
      strict: verifier({ ...strict, cache: { store } }),
    };
  }

  it('does not hand a token accepted without client_id to a verifier requiring it', async () => {
    const token = await idp.signJwt({ alg: 'RS256' }, accessClaims({ client_id: undefined }));
    const { lenient, strict } = await sharedBy({ requiredClaims: ['iat'] }, {});
    await expect(lenient.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    await expect(strict.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
  });

  it('does not hand an RS256 token to a verifier allowing only ES256', async () => {
    const token = await idp.mintAccessToken({ subject: 'user-1' });
    const { lenient, strict } = await sharedBy({}, { algorithms: ['ES256'] });
    await expect(lenient.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    await expect(strict.verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED',
    });
  });

  it('does not hand a token without jti to a verifier requiring one', async () => {
    const token = await idp.signJwt({ alg: 'RS256' }, accessClaims({ jti: undefined }));
    const { lenient, strict } = await sharedBy({ requireJti: false }, {});
    await expect(lenient.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    await expect(strict.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ID_TOKEN' });
  });

  it('still shares results between verifiers of the same policy', async () => {
    const token = await idp.mintAccessToken({ subject: 'user-1' });
    const { lenient, strict } = await sharedBy({ realm: 'a' }, { realm: 'b' });
    await lenient.verify(token);
    idp.resetCalls();
    await expect(strict.verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    expect(idp.calls('keys') + idp.calls('discovery')).toBe(0);
  });
});
