// The key-value store as a fleet's DPoP replay store (core's `dpop.replayStore`), against
// a real redis-server and the testing IdP: a proof accepted by one instance is refused by
// every other, and of one proof sent to two instances at once exactly one is accepted.
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type TokenRequest, type Verifier } from '@zitauth/core';
import { createRedisKeyValueStore, type RedisKeyValueStore } from '@zitauth/redis';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { startRedisServer, type RedisServer } from './redis-server.js';

let idp: TestIdp;
let redis: RedisServer;
const stores: RedisKeyValueStore<unknown>[] = [];
const verifiers: Verifier[] = [];

beforeAll(async () => {
  [idp, redis] = await Promise.all([startTestIdp(), startRedisServer()]);
});
afterAll(async () => {
  for (const verifier of verifiers) verifier.close();
  for (const store of stores) await store.close();
  await Promise.all([idp.close(), redis.stop()]);
});

/** One instance of the fleet, with its own connection to the shared store. */
async function instance(): Promise<Verifier> {
  const replayStore = createRedisKeyValueStore({ url: redis.url, keyPrefix: 'dpop-test:' });
  stores.push(replayStore);
  while (!(await replayStore.ping())) await new Promise((resolve) => setTimeout(resolve, 20));
  const verifier = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    dpop: { mode: 'required', externalUrl: 'https://api.fleet.test', replayStore },
  });
  verifiers.push(verifier);
  return verifier;
}

/** A client key, a token bound to it and a request with one fresh proof. */
async function boundRequest(): Promise<TokenRequest> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const jkt = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
  const token = await idp.mintAccessToken({ claims: { cnf: { jkt } } });
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${segment({ alg: 'EdDSA', typ: 'dpop+jwt', jwk })}.${segment({
    htm: 'GET',
    htu: 'https://api.fleet.test/orders',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    ath: createHash('sha256').update(token).digest('base64url'),
  })}`;
  const proof = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
  return { authorization: `DPoP ${token}`, dpop: proof, method: 'GET', path: '/orders' };
}

describe('a shared DPoP replay store', () => {
  it('refuses at one instance a proof another instance accepted', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const request = await boundRequest();
    expect(await a.authenticate(request)).toMatchObject({ subject: expect.any(String) });
    await expect(b.authenticate(request)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED',
    });
  });

  it('accepts one proof sent to two instances at once exactly once', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const request = await boundRequest();
    const results = await Promise.allSettled([a.authenticate(request), b.authenticate(request)]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
