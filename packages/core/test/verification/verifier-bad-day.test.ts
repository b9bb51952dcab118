// The IdP's bad day through the public API against the real testing IdP: a hanging key
// set costs requests with known keys no wait, a failing introspection endpoint is left
// alone for a cool-off, a flood of random tokens cannot starve a known caller, and a
// tampered discovery document cannot send credentials to another host.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  createVerifier,
  operatorFaultOf,
  type Verifier,
  type VerifierOptions,
} from '../../src/index.js';

let idp: TestIdp;
let introspection: { clientId: string; clientSecret: string };
const verifiers: Verifier[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
  const app = idp.createApiApp({ auth: 'basic' });
  introspection = { clientId: app.clientId, clientSecret: app.clientSecret };
});
afterAll(async () => {
  await idp.close();
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
  idp.faults.clear();
  idp.resetCalls();
});

function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection,
    ...options,
  });
  verifiers.push(created);
  return created;
}

/** A clock the test moves by hand. */
function clock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('stale-while-revalidate keys', () => {
  it('serves a known key at once while the key set hangs, refreshing in the background', async () => {
    const time = clock();
    // Without stale-while-revalidate the second verify would wait out this timeout.
    const v = verifier({ now: time.now, timeoutMs: 600_000 });
    await v.verify(await idp.mintAccessToken({ subject: 'user-1' }));
    expect(idp.calls('keys')).toBe(1);
    idp.faults.set('keys', { hang: true });
    time.advance(301_000); // past max-age=300
    const fresh = await idp.mintAccessToken({ subject: 'user-2' });
    await expect(v.verify(fresh)).resolves.toMatchObject({ subject: 'user-2' });
    // The background refresh reaches the IdP, and hangs there.
    await vi.waitFor(() => expect(idp.calls('keys')).toBe(2));
    const again = await idp.mintAccessToken({ subject: 'user-3' });
    await expect(v.verify(again)).resolves.toMatchObject({ subject: 'user-3' });
    expect(idp.calls('keys')).toBe(2); // one refresh in flight, shared
  });

  it('lets only an unknown kid wait for the refresh', async () => {
    const time = clock();
    const v = verifier({ now: time.now, timeoutMs: 200 });
    await v.verify(await idp.mintAccessToken());
    idp.faults.set('keys', { hang: true });
    time.advance(301_000);
    const unknown = await idp.signJwt(
      { alg: 'RS256', kid: 'rotated-kid' },
      { iss: idp.issuer, sub: 'u', aud: [idp.defaultProject.id] },
    );
    await expect(v.verify(unknown)).rejects.toMatchObject({ status: 503 });
  });
});

describe('introspection circuit breaker', () => {
  it('stops calling a failing endpoint for the cool-off, then probes once', async () => {
    const time = clock();
    const v = verifier({
      now: time.now,
      circuitBreaker: { failureThreshold: 3, coolOffMs: 10_000 },
    });
    idp.faults.set('introspect', { status: 500 });
    const tokens = await Promise.all(
      Array.from({ length: 10 }, () => idp.mintAccessToken({ format: 'opaque', subject: 'u' })),
    );
    for (const token of tokens) {
      await expect(v.verify(token)).rejects.toMatchObject({ status: 503 });
    }
    expect(idp.calls('introspect')).toBe(3);
    idp.faults.clear();
    await expect(v.verify(tokens[0]!)).rejects.toMatchObject({
      status: 503,
      headers: { 'Retry-After': '10' },
    });
    expect(idp.calls('introspect')).toBe(3);
    time.advance(10_000);
    await expect(v.verify(tokens[0]!)).resolves.toMatchObject({ subject: 'u' });
    await expect(v.verify(tokens[1]!)).resolves.toMatchObject({ subject: 'u' });
    expect(idp.calls('introspect')).toBe(5);
  });

  it('gives every 503 of the cool-off the operator fault that names the endpoint', async () => {
    const v = verifier({ circuitBreaker: { failureThreshold: 2, coolOffMs: 60_000 } });
    idp.faults.set('introspect', { status: 500 });
    const token = () => idp.mintAccessToken({ format: 'opaque', subject: 'u' });
    for (let i = 0; i < 2; i += 1) {
      await expect(v.verify(await token())).rejects.toMatchObject({ status: 503 });
    }
    const endpoint = `${idp.issuer}/oauth/v2/introspect`;
    for (let i = 0; i < 2; i += 1) {
      const refusal = await v.verify(await token()).catch((error: unknown) => error);
      expect(refusal).toMatchObject({ status: 503 });
      expect(operatorFaultOf(refusal)).toMatchObject({
        kind: 'circuit-open',
        message: expect.stringContaining(
          `zitauth: circuit open after 2 failures of the introspection endpoint ${endpoint}: `,
        ),
      });
    }
    expect(idp.calls('introspect')).toBe(2);
  });

  it('does not count refused or inactive tokens as failures', async () => {
    const v = verifier({ circuitBreaker: { failureThreshold: 1 } });
    await expect(v.verify('never-issued')).rejects.toMatchObject({ status: 401 });
    const token = await idp.mintAccessToken({ format: 'opaque', subject: 'u' });
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'u' });
  });
});

describe('a flood of random tokens', () => {
  it('cannot starve a caller whose token was seen before', async () => {
    const time = clock();
    // A generous timeout: on a loaded machine the flood may slow the IdP, and this test
    // is about being shed at once, not about speed.
    const v = verifier({ now: time.now, timeoutMs: 60_000 });
    const known = await idp.mintAccessToken({ format: 'opaque', subject: 'known' });
    await v.verify(known);
    time.advance(61_000); // its cached result expired: it needs introspection again
    idp.resetCalls();
    idp.faults.set('introspect', { latencyMs: 50 });
    const junk = Array.from({ length: 2_000 }, () =>
      v.verify(randomBytes(24).toString('base64url')).then(
        () => 'accepted',
        (error: { status?: number }) => error.status,
      ),
    );
    await expect(v.verify(known)).resolves.toMatchObject({ subject: 'known' });
    const outcomes = await Promise.all(junk);
    expect(outcomes.filter((status) => status === 'accepted')).toEqual([]);
    // Unknown tokens got at most their share: 48 slots and half the queue of 1024.
    expect(idp.calls('introspect')).toBeLessThanOrEqual(48 + 512 + 1);
    expect(outcomes.filter((status) => status === 503).length).toBeGreaterThan(0);
  });
});

describe('discovered endpoints', () => {
  function recordingFetch(): { fetch: NonNullable<VerifierOptions['fetch']>; urls: string[] } {
    const urls: string[] = [];
    return {
      urls,
      fetch: (input, init) => {
        urls.push(String(input));
        return globalThis.fetch(input, init);
      },
    };
  }

  it('refuses an introspection endpoint on another origin: credentials go nowhere', async () => {
    const { fetch, urls } = recordingFetch();
    const v = verifier({ fetch });
    idp.faults.set('discovery', {
      addFields: { introspection_endpoint: 'https://evil.example/introspect' },
    });
    const token = await idp.mintAccessToken({ format: 'opaque' });
    await expect(v.verify(token)).rejects.toMatchObject({ status: 503 });
    expect(urls.filter((url) => !url.startsWith(idp.issuer))).toEqual([]);
  });

  it.each([
    ['an http endpoint off loopback', 'http://keys.example/keys'],
    ['another loopback origin', 'http://localhost:1/keys'],
    ['not a URL', 'keys'],
  ])('refuses a key set at %s', async (_, jwksUri) => {
    const v = verifier();
    idp.faults.set('discovery', { addFields: { jwks_uri: jwksUri } });
    await expect(v.verify(await idp.mintAccessToken())).rejects.toMatchObject({ status: 503 });
    expect(idp.calls('keys')).toBe(0);
  });

  it('accepts another origin listed in endpointOrigins', async () => {
    const other = idp.issuer.replace('127.0.0.1', 'localhost');
    const v = verifier({ endpointOrigins: [other] });
    idp.faults.set('discovery', {
      addFields: { introspection_endpoint: `${other}/oauth/v2/introspect` },
    });
    const token = await idp.mintAccessToken({ format: 'opaque', subject: 'u' });
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'u' });
  });

  it('refuses a malformed endpointOrigins at start-up', () => {
    expect(() => verifier({ endpointOrigins: ['ftp://x'] })).toThrow(/endpointOrigins/);
  });
});
