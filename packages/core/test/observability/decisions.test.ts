// The decision channels, fed by a real verifier against the testing IdP: what each
// decision publishes, that personal fields are only there when asked for, and that no
// token ever travels on a channel.
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  authenticateRequest,
  CHANNELS,
  createVerifier,
  type RefusedMessage,
  type Verifier,
  type VerifiedMessage,
  type VerifierOptions,
} from '../../src/index.js';

let idp: TestIdp;
const verifiers: Verifier[] = [];
const unsubscribers: (() => void)[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
});
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  for (const verifier of verifiers.splice(0)) verifier.close();
});
afterAll(async () => {
  await idp.close();
});

/** Collects what one channel publishes until the test ends. */
function listen<T>(name: string): T[] {
  const seen: T[] = [];
  const onMessage = (message: unknown): void => void seen.push(message as T);
  diagnostics.subscribe(name, onMessage);
  unsubscribers.push(() => diagnostics.unsubscribe(name, onMessage));
  return seen;
}

function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  verifiers.push(created);
  return created;
}

function introspection(): NonNullable<VerifierOptions['introspection']> {
  const app = idp.createApiApp({ auth: 'basic' });
  return { clientId: app.clientId, clientSecret: app.clientSecret };
}

describe('zitauth:verified', () => {
  it('publishes the issuer and token kind, and the caller only when asked', async () => {
    const verified = listen<VerifiedMessage>(CHANNELS.verified);
    const token = await idp.mintAccessToken({ subject: 'user-7', clientId: 'client-7' });
    await verifier().verify(token);
    expect(verified).toHaveLength(1);
    const message = verified[0]!;
    expect(message).toMatchObject({ issuer: idp.issuer, tokenKind: 'jwt' });
    expect(message.subject).toBe('user-7');
    expect(message.clientId).toBe('client-7');
    expect(JSON.parse(JSON.stringify(message))).toEqual({ issuer: idp.issuer, tokenKind: 'jwt' });
    expect(Object.keys(message)).toEqual(['issuer', 'tokenKind']);
  });

  it('publishes opaque tokens checked by introspection', async () => {
    const verified = listen<VerifiedMessage>(CHANNELS.verified);
    const token = await idp.mintAccessToken({ format: 'opaque' });
    await verifier({ introspection: introspection() }).verify(token);
    expect(verified.map((message) => message.tokenKind)).toEqual(['opaque']);
  });
});

describe('zitauth:refused and zitauth:inactive', () => {
  it('publishes a refusal with its code and status, never the token', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    const token = await idp.mintAccessToken({ expiresInSeconds: -60 });
    await expect(verifier().verify(token)).rejects.toMatchObject({ status: 401 });
    expect(refused).toEqual([
      expect.objectContaining({
        issuer: idp.issuer,
        code: 'ERR_ZITAUTH_TOKEN_EXPIRED',
        status: 401,
      }),
    ]);
    expect(JSON.stringify(refused)).not.toContain(token);
  });

  it('publishes requests without a token or with two as refusals', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    const v = verifier();
    await expect(v.authenticate({})).rejects.toMatchObject({ status: 401 });
    await expect(v.authenticate({ authorization: ['Bearer a', 'Bearer b'] })).rejects.toMatchObject(
      { status: 400 },
    );
    await expect(v.authenticate({}, { required: false })).resolves.toBeNull();
    expect(refused.map(({ code, status }) => [code, status])).toEqual([
      ['ERR_ZITAUTH_NO_TOKEN', 401],
      ['ERR_ZITAUTH_MULTIPLE_TOKENS', 400],
    ]);
  });

  it('tells the operator that opaque tokens need introspection credentials', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const error = await verifier()
      .verify(token)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_TYPE', status: 401 });
    expect((error as Error).message).toBe('The access token type is not accepted');
    expect(refused[0]?.reason).toMatch(/^opaque tokens need `introspection` credentials/);
    expect(refused[0]?.reason).toContain("ZITADEL's default access token type is opaque");
  });

  it('gives no reason where there is nothing beyond the code', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    await expect(verifier().authenticate({})).rejects.toMatchObject({ status: 401 });
    expect(refused[0]?.reason).toBeUndefined();
  });

  it('publishes a revoked token on zitauth:inactive, not on zitauth:refused', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    const inactive = listen<RefusedMessage>(CHANNELS.inactive);
    const token = await idp.mintAccessToken({ format: 'opaque' });
    idp.revoke(token);
    await expect(verifier({ introspection: introspection() }).verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_INACTIVE',
    });
    expect(inactive).toEqual([
      expect.objectContaining({ code: 'ERR_ZITAUTH_TOKEN_INACTIVE', status: 401 }),
    ]);
    expect(refused).toEqual([]);
  });

  it('publishes an unreachable IdP as a 503 refusal whose reason names the cause', async () => {
    const refused = listen<RefusedMessage>(CHANNELS.refused);
    idp.faults.set('keys', { status: 500, times: 1 });
    await expect(verifier().verify(await idp.mintAccessToken())).rejects.toMatchObject({
      status: 503,
    });
    expect(refused[0]).toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM', status: 503 });
    expect(refused[0]?.reason).toBe(
      `zitauth: the key set at ${idp.issuer}/oauth/v2/keys could not be read (the IdP answered 500); ` +
        'tokens cannot be verified until it can: check that the IdP is reachable from here',
    );
  });
});

describe('zitauth:cache:hit and zitauth:cache:miss', () => {
  it('publishes a miss, then a hit for the same token', async () => {
    const hits = listen(CHANNELS.cacheHit);
    const misses = listen(CHANNELS.cacheMiss);
    const v = verifier();
    const token = await idp.mintAccessToken();
    await v.verify(token);
    await v.verify(token);
    await v.verify(token);
    expect(misses).toEqual([{ issuer: idp.issuer }]);
    expect(hits).toEqual([{ issuer: idp.issuer }, { issuer: idp.issuer }]);
  });

  it('counts one look-up per request through authenticateRequest, as adapters call it', async () => {
    const hits = listen(CHANNELS.cacheHit);
    const misses = listen(CHANNELS.cacheMiss);
    const v = verifier();
    const request = { authorization: `Bearer ${await idp.mintAccessToken()}` };
    await authenticateRequest(v, request, true);
    expect(misses).toHaveLength(1);
    expect(authenticateRequest(v, request, true)).toMatchObject({ tokenKind: 'jwt' });
    expect([misses.length, hits.length]).toEqual([1, 1]);
    const expired = {
      authorization: `Bearer ${await idp.mintAccessToken({ expiresInSeconds: -60 })}`,
    };
    // The keys are in memory now, so the first refusal may come without a promise too.
    await expect((async () => authenticateRequest(v, expired, true))()).rejects.toMatchObject({
      status: 401,
    });
    // The remembered refusal answers from memory: a look-up that found no result.
    expect(() => authenticateRequest(v, expired, true)).toThrow();
    expect([misses.length, hits.length]).toEqual([3, 1]);
  });

  it('publishes no look-up when the cache is off', async () => {
    const lookUps = [...listen(CHANNELS.cacheHit), ...listen(CHANNELS.cacheMiss)];
    await verifier({ cache: { enabled: false } }).verify(await idp.mintAccessToken());
    expect(lookUps).toEqual([]);
  });
});
