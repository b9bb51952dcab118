// Verifiers sharing one real redis-server stand for a fleet's instances, against the real
// testing IdP: one introspection per token across the fleet, revocation seen by every
// instance as soon as one finds the token inactive, and correct answers while
// redis-server is killed mid-traffic and after it comes back.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  type CachedResult,
  type Verifier,
  type VerifierOptions,
} from '@zitauth/core';
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '@zitauth/redis';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { startRedisServer, type RedisServer } from './redis-server.js';

let idp: TestIdp;
let redis: RedisServer;
let introspection: NonNullable<VerifierOptions['introspection']>;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  [idp, redis] = await Promise.all([startTestIdp(), startRedisServer()]);
  const app = idp.createApiApp({ auth: 'basic' });
  introspection = { clientId: app.clientId, clientSecret: app.clientSecret };
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  idp.resetCalls();
});
afterAll(async () => {
  await Promise.all([idp.close(), redis.stop()]);
});

/** A clock the test moves by hand, shared by the fleet. */
function clock() {
  let time = Date.now();
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

/** One instance: a verifier with its own connection to the shared Redis. */
async function instance(
  options: Partial<VerifierOptions> = {},
  storeOptions: RedisStoreOptions = {},
): Promise<{ verifier: Verifier; store: RedisStore<CachedResult> }> {
  const store = createRedisStore({
    url: redis.url,
    // Generous, so a loaded test machine does not turn a slow answer into an extra IdP call.
    commandTimeoutMs: 2000,
    ...storeOptions,
  });
  const verifier = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection,
    ...options,
    cache: { store, ...options.cache },
  });
  closers.push(
    () => verifier.close(),
    () => store.close(),
  );
  await connected(store);
  return { verifier, store };
}

async function connected(store: RedisStore<CachedResult>): Promise<void> {
  while (!(await store.ping())) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function fleet(size: number, options: Partial<VerifierOptions> = {}) {
  const prefix = `fleet-${Math.random()}:`;
  return Promise.all(
    Array.from({ length: size }, () => instance(options, { keyPrefix: prefix })),
  ).then((instances) => instances.map(({ verifier }) => verifier));
}

describe('a fleet sharing Redis', () => {
  it('introspects each token once for concurrent requests on every instance', async () => {
    const verifiers = await fleet(3);
    const tokens = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        idp.mintAccessToken({ format: 'opaque', subject: `user-${i}` }),
      ),
    );
    idp.resetCalls();
    const results = await Promise.all(
      tokens.flatMap((token) => verifiers.flatMap((v) => [1, 2, 3, 4].map(() => v.verify(token)))),
    );
    expect(results.map((auth) => auth.subject)).toEqual(
      tokens.flatMap((_, i) => Array.from({ length: 12 }, () => `user-${i}`)),
    );
    expect(idp.calls('introspect')).toBe(5);
  });

  it.each([
    ['an opaque token', 'opaque' as const, {}],
    ['a JWT with introspectJwt', 'jwt' as const, { introspectJwt: true }],
  ])('refuses %s on every instance once one finds it revoked', async (_name, format, extra) => {
    const time = clock();
    const options = { ...extra, now: time.now, cache: { maxTtlMs: 10_000 } };
    const prefix = `revoked-${Math.random()}:`;
    const [a, b] = await Promise.all(
      [1, 2].map(() => instance(options, { keyPrefix: prefix, now: time.now })),
    );
    const token = await idp.mintAccessToken({ format });
    await a!.verifier.verify(token);
    await b!.verifier.verify(token);
    idp.revoke(token);
    time.advance(10_001);
    await expect(a!.verifier.verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_INACTIVE',
    });
    await expect(b!.verifier.verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_INACTIVE',
    });
    expect(idp.calls('introspect')).toBe(2);
  });

  it('answers every request correctly while redis-server is killed and restarted', async () => {
    const verifiers = await fleet(2, { cache: { maxTtlMs: 60_000 } });
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        idp.mintAccessToken({ format: 'opaque', subject: `s${i}` }),
      ),
    );
    const traffic = tokens.map(async (token, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      return verifiers[i % 2]!.verify(token);
    });
    await redis.kill();
    const results = await Promise.all(traffic);
    expect(results.map((auth) => auth.subject)).toEqual(tokens.map((_, i) => `s${i}`));
    await expect(verifiers[1]!.verify(tokens[0]!)).resolves.toMatchObject({ subject: 's0' });
    await redis.restart();
    await sharingResumes(verifiers);
  });
});

/** Waits until a fresh token verified on one instance is a Redis hit on the other. */
async function sharingResumes([a, b]: Verifier[]): Promise<void> {
  for (;;) {
    const token = await idp.mintAccessToken({ format: 'opaque' });
    idp.resetCalls();
    await a!.verify(token);
    await b!.verify(token);
    if (idp.calls('introspect') === 1) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
