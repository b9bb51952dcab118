/**
 * `fetchUserinfo`: the profile for a token, the mapping of the IdP's answers to typed
 * errors (401 → invalid token, outage → upstream), and that the token never appears in
 * an error. Unit tests use an injected fetch; the suite at the end talks HTTP to the
 * testing IdP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { fetchUserinfo } from '@zitauth/core/token-client';
import {
  InsufficientScopeError,
  InvalidTokenError,
  UpstreamError,
  ZitauthConfigError,
} from '../../src/errors.js';
import type { FetchLike } from '../../src/idp/http.js';
import { findOperatorFault } from '../../src/observability/operator-fault.js';

const ISSUER = 'https://idp.example';
const USERINFO = `${ISSUER}/oidc/v1/userinfo`;
const TOKEN = 'user-access-token-value';

function answering(answer: (url: string, init?: RequestInit) => Response): FetchLike & {
  seen: { url: string; init: RequestInit | undefined }[];
} {
  const seen: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    seen.push({ url: String(input), init });
    return answer(String(input), init);
  };
  return Object.assign(fetch, { seen });
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error as Error,
  );
}

function expectNoToken(error: Error): void {
  for (const text of [String(error), error.message, JSON.stringify(error), String(error.cause)]) {
    expect(text).not.toContain(TOKEN);
  }
}

describe('fetchUserinfo', () => {
  it('refuses a discovered userinfo endpoint on another origin unless it is allowed', async () => {
    const elsewhere = 'https://collector.example/userinfo';
    const fetch = answering((url) =>
      url.endsWith('/.well-known/openid-configuration')
        ? json({ issuer: ISSUER, userinfo_endpoint: elsewhere })
        : json({ sub: '123' }),
    );
    const error = await rejection(fetchUserinfo(TOKEN, { issuer: ISSUER, fetch }));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(findOperatorFault(error)?.message).toMatch(
      /userinfo_endpoint is on https:\/\/collector\.example, not the issuer's origin; list it in endpointOrigins/,
    );
    // The token never went to the other origin.
    expect(fetch.seen.map((call) => call.url)).toEqual([
      `${ISSUER}/.well-known/openid-configuration`,
    ]);
    await expect(
      fetchUserinfo(TOKEN, {
        issuer: ISSUER,
        fetch,
        endpointOrigins: ['https://collector.example'],
      }),
    ).resolves.toEqual({ sub: '123' });
    expect(fetch.seen.at(-1)?.url).toBe(elsewhere);
  });

  it('returns the profile, sending the token as Bearer', async () => {
    const fetch = answering(() => json({ sub: '123', name: 'Ada', email: 'ada@example.com' }));
    await expect(
      fetchUserinfo(TOKEN, { issuer: ISSUER, userinfoEndpoint: USERINFO, fetch }),
    ).resolves.toEqual({ sub: '123', name: 'Ada', email: 'ada@example.com' });
    const headers = new Headers(fetch.seen[0]?.init?.headers);
    expect(fetch.seen[0]?.url).toBe(USERINFO);
    expect(fetch.seen[0]?.init?.method).toBe('GET');
    expect(fetch.seen[0]?.init?.redirect).toBe('manual');
    expect(headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
  });

  it('finds the endpoint by discovery', async () => {
    const fetch = answering((url) =>
      url.endsWith('/.well-known/openid-configuration')
        ? json({ issuer: ISSUER, userinfo_endpoint: USERINFO })
        : json({ sub: '1' }),
    );
    await expect(fetchUserinfo(TOKEN, { issuer: ISSUER, fetch, timeoutMs: 1000 })).resolves.toEqual(
      { sub: '1' },
    );
    expect(fetch.seen.map((call) => call.url)).toEqual([
      `${ISSUER}/.well-known/openid-configuration`,
      USERINFO,
    ]);
  });

  it.each<[string, () => Response, new (...args: never[]) => Error]>([
    ['401 as an invalid token', () => new Response(null, { status: 401 }), InvalidTokenError],
    [
      '403 as insufficient scope',
      () => new Response(null, { status: 403 }),
      InsufficientScopeError,
    ],
    ['500 as an upstream error', () => new Response('down', { status: 500 }), UpstreamError],
    ['404 as an upstream error', () => new Response('nope', { status: 404 }), UpstreamError],
    ['garbage as an upstream error', () => new Response('<html>', { status: 200 }), UpstreamError],
    ['a profile without sub as an upstream error', () => json({ name: 'x' }), UpstreamError],
  ])('maps %s', async (_name, answer, type) => {
    const fetch = answering(answer);
    const error = await rejection(
      fetchUserinfo(TOKEN, { issuer: ISSUER, userinfoEndpoint: USERINFO, fetch }),
    );
    expect(error).toBeInstanceOf(type);
    expectNoToken(error);
  });

  it('maps a network failure to an upstream error', async () => {
    const fetch: FetchLike = async () => {
      throw new TypeError(`fetch failed for ${USERINFO}`);
    };
    const error = await rejection(
      fetchUserinfo(TOKEN, { issuer: ISSUER, userinfoEndpoint: USERINFO, fetch }),
    );
    expect(error).toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM', status: 503 });
    expectNoToken(error);
  });

  it('uses the global fetch by default', async () => {
    const original = globalThis.fetch;
    globalThis.fetch = answering(() => json({ sub: 'global' })) as typeof globalThis.fetch;
    try {
      await expect(
        fetchUserinfo(TOKEN, { issuer: ISSUER, userinfoEndpoint: USERINFO }),
      ).resolves.toEqual({ sub: 'global' });
    } finally {
      globalThis.fetch = original;
    }
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const fetch: FetchLike = async (_input, init) => {
      throw init?.signal?.reason;
    };
    await expect(
      fetchUserinfo(TOKEN, {
        issuer: ISSUER,
        userinfoEndpoint: USERINFO,
        fetch,
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(UpstreamError);
  });

  it('refuses a malformed token before calling anyone', async () => {
    const fetch = answering(() => json({ sub: '1' }));
    await expect(fetchUserinfo('a b', { issuer: ISSUER, fetch })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
    await expect(fetchUserinfo('', { issuer: ISSUER, fetch })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
    expect(fetch.seen).toHaveLength(0);
  });

  it('rejects a bad configuration', async () => {
    await expect(fetchUserinfo(TOKEN, { issuer: 'http://idp.example' })).rejects.toThrow(
      /issuer must use https/,
    );
    await expect(
      fetchUserinfo(TOKEN, { issuer: ISSUER, userinfoEndpoint: 'not a url' }),
    ).rejects.toBeInstanceOf(ZitauthConfigError);
    await expect(fetchUserinfo(TOKEN, undefined as unknown as { issuer: string })).rejects.toThrow(
      /needs options with an issuer/,
    );
  });
});

describe('fetchUserinfo over HTTP against the testing IdP', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.close());
  beforeEach(() => idp.faults.clear());

  it('returns the profile of a user token', async () => {
    const user = idp.createUser({ userName: 'ada', givenName: 'Ada', familyName: 'Lovelace' });
    const token = await idp.mintAccessToken({
      subject: user.id,
      scope: 'openid profile email',
      roles: ['reader'],
    });
    const profile = await fetchUserinfo(token, { issuer: idp.issuer });
    expect(profile).toMatchObject({
      sub: user.id,
      name: 'Ada Lovelace',
      preferred_username: user.loginName,
      email: user.email,
    });
    expect(profile['urn:zitadel:iam:org:project:roles']).toHaveProperty('reader');
  });

  it('maps a token the IdP does not accept to InvalidTokenError', async () => {
    const token = await idp.mintAccessToken({ scope: 'openid' });
    idp.revoke(token);
    const revoked = await rejection(fetchUserinfo(token, { issuer: idp.issuer }));
    expect(revoked).toMatchObject({ name: 'InvalidTokenError', status: 401 });
    expect(String(revoked)).not.toContain(token);
    await expect(fetchUserinfo('not-a-token', { issuer: idp.issuer })).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it.each([
    ['a 503', { status: 503 }],
    ['a dropped connection', { closeConnection: true }],
    ['a garbage body', { body: 'garbage' as const }],
  ])('maps %s to UpstreamError, without the token', async (_name, fault) => {
    const token = await idp.mintAccessToken();
    idp.faults.set('userinfo', fault);
    const error = await rejection(
      fetchUserinfo(token, {
        issuer: idp.issuer,
        userinfoEndpoint: `${idp.issuer}/oidc/v1/userinfo`,
      }),
    );
    expect(error).toBeInstanceOf(UpstreamError);
    for (const text of [String(error), error.message, JSON.stringify(error), String(error.cause)]) {
      expect(text).not.toContain(token);
    }
  });

  it('maps an IdP that is down to UpstreamError', async () => {
    const down = await startTestIdp();
    const issuer = down.issuer;
    await down.close();
    await expect(fetchUserinfo('some-token', { issuer })).rejects.toBeInstanceOf(UpstreamError);
  });
});
