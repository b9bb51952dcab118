/**
 * The M2M token client: option checks, the grant requests on the wire, caching and
 * single-flight, refresh before expiry, retries of outages only, typed refusals, the
 * authorized `fetch`, and that no credential ever ends up in an error. Unit tests feed an
 * injected fetch; the suite at the end talks HTTP to the testing IdP.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  createTokenClient,
  fetchUserinfo,
  TokenRequestError,
  TokenUnavailableError,
  type TokenClientOptions,
} from '@zitauth/core/token-client';
import { UpstreamError, ZitauthConfigError } from '../../src/errors.js';
import type { FetchLike } from '../../src/idp/http.js';
import { findOperatorFault } from '../../src/observability/operator-fault.js';
import type { ServiceAccountKeyFile } from '../../src/idp/key-file.js';
import { backoffDelay, resolveRetryPolicy, sleep, withRetry } from '../../src/idp/retry.js';
import { buildScope } from '../../src/token-client/token-scopes.js';

const ISSUER = 'https://idp.example';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/v2/token`;

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY_FILE: ServiceAccountKeyFile = {
  type: 'serviceaccount',
  keyId: 'key-1',
  key: pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  userId: '281234567890123456',
};

/** A recorded request to the fake IdP or API. */
interface Seen {
  url: string;
  method: string;
  headers: Headers;
  form: URLSearchParams;
}

type Handler = (request: Seen, index: number) => Response | Promise<Response>;

/**
 * An injected fetch answering from `handler`, recording every request. Like the real
 * one, it rejects when the request's signal aborts (unless `ignoreSignal`).
 */
function fakeFetch(handler: Handler, ignoreSignal = false): FetchLike & { seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const request: Seen = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      form: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
    };
    seen.push(request);
    const answer = Promise.resolve().then(() => handler(request, seen.length - 1));
    const signal = init?.signal;
    if (ignoreSignal || signal == null) return answer;
    return Promise.race([
      answer,
      new Promise<never>((_resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  };
  return Object.assign(fetch, { seen });
}

/** Never answers; only an abort ends it. */
const hang = (): Promise<Response> =>
  new Promise<Response>(() => {
    // pending forever
  });

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function tokenJson(
  token = 'at-1',
  expiresIn = 3600,
  extra: Record<string, unknown> = {},
): Response {
  return json({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...extra });
}

/** Hands out at-1, at-2, … */
function countingIdp(expiresIn = 3600): FetchLike & { seen: Seen[] } {
  return fakeFetch((_request, index) => tokenJson(`at-${index + 1}`, expiresIn));
}

function client(options: Partial<TokenClientOptions> & { fetch: FetchLike }) {
  return createTokenClient({
    issuer: ISSUER,
    tokenEndpoint: TOKEN_ENDPOINT,
    keyFile: KEY_FILE,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...options,
  });
}

/** Asserts that no credential shows up anywhere an error is printed or serialised. */
function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const err = error as Error & { cause?: unknown };
  const texts = [String(err), err.message, JSON.stringify(err), String(err.stack)];
  for (let cause = err.cause; cause !== undefined; cause = (cause as Error).cause) {
    texts.push(String(cause), JSON.stringify(cause) ?? '');
  }
  for (const secret of secrets) {
    for (const text of texts) expect(text).not.toContain(secret);
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('createTokenClient options', () => {
  const base = { issuer: ISSUER };

  it.each<[string, Partial<TokenClientOptions>, RegExp]>([
    ['no credential', {}, /no credential given; pass one of keyFile/],
    [
      'two credentials',
      { keyFile: KEY_FILE, personalAccessToken: 'pat' },
      /exactly one credential, got keyFile and personalAccessToken/,
    ],
    ['a client id without secret', { clientId: 'svc' }, /clientId and clientSecret go together/],
    ['a secret without client id', { clientSecret: 's' }, /clientId and clientSecret go together/],
    ['an empty client id', { clientId: ' ', clientSecret: 's' }, /clientId must be a non-empty/],
    ['an empty PAT', { personalAccessToken: '' }, /personalAccessToken must be a non-empty/],
    ['a PAT with a line break', { personalAccessToken: 'ab\ncd' }, /spaces or line breaks/],
    ['a negative margin', { keyFile: KEY_FILE, refreshMarginMs: -1 }, /refreshMarginMs must be/],
    ['a zero timeout', { keyFile: KEY_FILE, timeoutMs: 0 }, /timeoutMs must be .* > 0/],
    ['a NaN timeout', { keyFile: KEY_FILE, timeoutMs: Number.NaN }, /timeoutMs must be/],
    ['zero attempts', { keyFile: KEY_FILE, retry: { attempts: 0 } }, /retry.attempts must be/],
    ['half an attempt', { keyFile: KEY_FILE, retry: { attempts: 1.5 } }, /whole number/],
    ['a negative delay', { keyFile: KEY_FILE, retry: { baseDelayMs: -5 } }, /retry.baseDelayMs/],
    [
      'project ids that are not a list',
      { keyFile: KEY_FILE, projectIds: '123' as unknown as string[] },
      /projectIds must be an array/,
    ],
    ['a scope with a space', { keyFile: KEY_FILE, scopes: ['a b'] }, /without spaces/],
    [
      'a clock that is not a function',
      { keyFile: KEY_FILE, now: 5 as never },
      /now must be a function/,
    ],
    ['a fetch that is not a function', { keyFile: KEY_FILE, fetch: {} as never }, /fetch must be/],
    [
      'retry that is not an object',
      { keyFile: KEY_FILE, retry: 3 as never },
      /retry must be an object/,
    ],
    [
      'a plain-http token endpoint',
      { keyFile: KEY_FILE, tokenEndpoint: 'http://idp.example/oauth/v2/token' },
      /tokenEndpoint must use https/,
    ],
  ])('rejects %s', (_name, options, message) => {
    expect(() => createTokenClient({ ...base, ...options })).toThrow(ZitauthConfigError);
    expect(() => createTokenClient({ ...base, ...options })).toThrow(message);
  });

  it.each([
    ['a missing issuer', undefined, /issuer is required/],
    ['an issuer that is not a URL', 'acme.zitadel.cloud', /issuer is not an absolute URL/],
    ['a plain-http issuer', 'http://acme.zitadel.cloud', /issuer must use https .* got http:/],
    ['an issuer with a query', 'https://acme.zitadel.cloud?x=1', /query or a fragment/],
    ['an issuer with credentials', 'https://u:p@acme.zitadel.cloud', /credentials/],
  ])('rejects %s', (_name, issuer, message) => {
    const options = { issuer: issuer as string, personalAccessToken: 'pat' };
    expect(() => createTokenClient(options)).toThrow(message);
  });

  it.each([
    'http://localhost:8080',
    'http://127.0.0.1:1',
    'http://[::1]:9',
    'http://idp.localhost',
  ])('accepts the loopback issuer %s over http', (issuer) => {
    expect(() => createTokenClient({ issuer, personalAccessToken: 'pat' })).not.toThrow();
  });

  it('rejects missing options', () => {
    expect(() => createTokenClient(undefined as unknown as TokenClientOptions)).toThrow(
      /options are required/,
    );
  });

  it('refuses an application key with a message naming the key it needs', () => {
    const appKey = { ...KEY_FILE, type: 'application', appId: '1', clientId: '1@p' };
    const build = () => createTokenClient({ issuer: ISSUER, keyFile: JSON.stringify(appKey) });
    expect(build).toThrow(/needs a service-user key \("type": "serviceaccount"\)/);
    const error = (() => {
      try {
        build();
      } catch (caught) {
        return caught as ZitauthConfigError;
      }
    })();
    expect(error?.code).toBe('ERR_ZITAUTH_INVALID_KEY_FILE');
    expect(String(error)).not.toContain('PRIVATE KEY');
  });

  it('reports a key file that cannot be read, without its contents', () => {
    expect(() => createTokenClient({ issuer: ISSUER, keyFile: '/nonexistent/key.json' })).toThrow(
      /cannot read the key file/,
    );
    const broken = { ...KEY_FILE, key: 'not a pem' };
    expect(() => createTokenClient({ issuer: ISSUER, keyFile: broken })).toThrow(
      /readable RSA private key/,
    );
  });

  it('accepts undefined for the credentials not used (env-driven configs)', () => {
    const options: TokenClientOptions = {
      issuer: ISSUER,
      keyFile: undefined,
      clientId: undefined,
      clientSecret: undefined,
      personalAccessToken: 'pat',
    };
    expect(() => createTokenClient(options)).not.toThrow();
  });
});

describe('buildScope', () => {
  it('puts openid first, then audiences, roles, the ZITADEL API and extra scopes', () => {
    expect(
      buildScope({ projectIds: ['111', '222'], zitadelApi: true, scopes: ['profile', 'openid'] }),
    ).toBe(
      'openid urn:zitadel:iam:org:project:id:111:aud urn:zitadel:iam:org:project:id:222:aud ' +
        'urn:zitadel:iam:org:projects:roles urn:zitadel:iam:org:project:id:zitadel:aud profile',
    );
  });

  it('asks for roles only with projects, unless told otherwise', () => {
    expect(buildScope({})).toBe('openid');
    expect(buildScope({ roles: true })).toBe('openid urn:zitadel:iam:org:projects:roles');
    expect(buildScope({ projectIds: ['1'], roles: false })).toBe(
      'openid urn:zitadel:iam:org:project:id:1:aud',
    );
  });

  it('rejects entries that are not strings', () => {
    expect(() => buildScope({ scopes: [42 as unknown as string] })).toThrow(ZitauthConfigError);
  });
});

describe('retry helpers', () => {
  const policy = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });

  it('defaults to 3 attempts, 200 ms doubling up to 2000 ms', () => {
    expect(resolveRetryPolicy()).toEqual({ attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 });
    expect(resolveRetryPolicy({ baseDelayMs: 500, maxDelayMs: 100 }).maxDelayMs).toBe(500);
  });

  it('doubles the delay, caps it, and jitters within the upper half', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 0.999)).toBeCloseTo(99.95);
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });

  it('stops sleeping when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('closed'));
    await expect(pending).rejects.toThrow('closed');
    await expect(sleep(1, controller.signal)).rejects.toThrow('closed');
    await expect(sleep(1)).resolves.toBeUndefined();
  });

  it('throws the last error when aborted while waiting', async () => {
    const controller = new AbortController();
    let runs = 0;
    const pending = withRetry(
      async () => {
        runs += 1;
        setTimeout(() => controller.abort(), 5);
        throw new Error(`failure ${runs}`);
      },
      { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      { retryable: () => true, signal: controller.signal },
    );
    await expect(pending).rejects.toThrow('failure 1');
    expect(runs).toBe(1);
  });
});

describe('token requests', () => {
  it('adds extra token request fields such as an RFC 8707 resource', async () => {
    const fetch = countingIdp();
    const tokens = client({ fetch, tokenParams: { resource: 'https://api.example.com' } });
    await tokens.getToken();
    expect(fetch.seen[0]!.form.get('resource')).toBe('https://api.example.com');
    expect(fetch.seen[0]!.form.get('grant_type')).toBe(
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    );
  });

  it('refuses token request fields that would override the grant or credentials', () => {
    for (const tokenParams of [
      { grant_type: 'password' },
      { scope: 'x' },
      { client_secret: 'x' },
      { resource: 5 },
      'resource=x',
      ['resource'],
    ]) {
      expect(() => client({ fetch: countingIdp(), tokenParams: tokenParams as never })).toThrow(
        ZitauthConfigError,
      );
    }
  });

  it('sends the JWT bearer grant with a fresh assertion signed by the service-user key', async () => {
    const fetch = countingIdp();
    const tokens = client({ fetch, projectIds: ['999'], now: () => 1_700_000_000_000 });
    await expect(tokens.getToken()).resolves.toBe('at-1');
    const request = fetch.seen[0]!;
    expect(request).toMatchObject({ url: TOKEN_ENDPOINT, method: 'POST' });
    expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request.headers.get('authorization')).toBeNull();
    expect(request.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(request.form.get('scope')).toBe(
      'openid urn:zitadel:iam:org:project:id:999:aud urn:zitadel:iam:org:projects:roles',
    );
    const assertion = request.form.get('assertion')!;
    const { payload, protectedHeader } = await jwtVerify(
      assertion,
      createPublicKey(pair.privateKey),
      {
        issuer: KEY_FILE.userId,
        subject: KEY_FILE.userId,
        audience: ISSUER,
        currentDate: new Date(1_700_000_000_000),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: 'key-1' });
    expect(payload.iat).toBe(1_700_000_000);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('signs a new assertion (new jti) for every request', async () => {
    const fetch = countingIdp();
    const tokens = client({ fetch });
    await tokens.getToken();
    tokens.invalidate();
    await tokens.getToken();
    const jtis = fetch.seen.map((request) => decodeJwt(request.form.get('assertion')!).jti);
    expect(new Set(jtis).size).toBe(2);
  });

  it('sends client credentials with form-urlencoded Basic authentication', async () => {
    const fetch = countingIdp();
    const tokens = client({
      fetch,
      keyFile: undefined,
      clientId: '78366401571920522@amce',
      clientSecret: 'veryweaksecret!',
    });
    await expect(tokens.getToken()).resolves.toBe('at-1');
    const request = fetch.seen[0]!;
    expect(request.headers.get('authorization')).toBe(
      'Basic NzgzNjY0MDE1NzE5MjA1MjIlNDBhbWNlOnZlcnl3ZWFrc2VjcmV0JTIx',
    );
    expect(Object.fromEntries(request.form)).toEqual({
      grant_type: 'client_credentials',
      scope: 'openid',
    });
  });

  it('returns a personal access token as is, without any IdP call', async () => {
    const fetch = countingIdp();
    const tokens = client({ fetch, keyFile: undefined, personalAccessToken: 'pat-123' });
    await expect(tokens.getToken()).resolves.toBe('pat-123');
    await expect(tokens.getTokenResponse()).resolves.toMatchObject({
      accessToken: 'pat-123',
      tokenType: 'Bearer',
      scope: undefined,
    });
    tokens.invalidate();
    await expect(tokens.getToken()).resolves.toBe('pat-123');
    expect(fetch.seen).toHaveLength(0);
    tokens.close();
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('finds the token endpoint by discovery when none is given', async () => {
    const fetch = fakeFetch((request) =>
      request.url.endsWith('/.well-known/openid-configuration')
        ? json({ issuer: ISSUER, token_endpoint: `${ISSUER}/custom/token` })
        : tokenJson(),
    );
    const tokens = createTokenClient({ issuer: ISSUER, keyFile: KEY_FILE, fetch });
    await tokens.getToken();
    tokens.invalidate();
    await tokens.getToken();
    expect(fetch.seen.map((request) => request.url)).toEqual([
      `${ISSUER}/.well-known/openid-configuration`,
      `${ISSUER}/custom/token`,
      `${ISSUER}/custom/token`,
    ]);
  });

  it('refuses a discovered token endpoint on another origin unless it is allowed', async () => {
    const elsewhere = 'https://collector.example/token';
    const fetch = fakeFetch((request) =>
      request.url.endsWith('/.well-known/openid-configuration')
        ? json({ issuer: ISSUER, token_endpoint: elsewhere })
        : tokenJson(),
    );
    const refused = createTokenClient({
      issuer: ISSUER,
      keyFile: KEY_FILE,
      fetch,
      retry: { attempts: 1 },
    });
    const error = await refused.getToken().then(
      () => expect.unreachable('expected a rejection'),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UpstreamError);
    expect(findOperatorFault(error)?.message).toMatch(
      /token_endpoint is on https:\/\/collector\.example, not the issuer's origin; list it in endpointOrigins/,
    );
    // No credential went to the other origin.
    expect(fetch.seen.map((request) => request.url)).toEqual([
      `${ISSUER}/.well-known/openid-configuration`,
    ]);
    refused.close();

    const allowed = createTokenClient({
      issuer: ISSUER,
      keyFile: KEY_FILE,
      fetch,
      endpointOrigins: ['https://collector.example'],
    });
    await expect(allowed.getToken()).resolves.toBe('at-1');
    expect(fetch.seen.at(-1)?.url).toBe(elsewhere);
    allowed.close();
    expect(() =>
      createTokenClient({
        issuer: ISSUER,
        keyFile: KEY_FILE,
        fetch,
        endpointOrigins: ['http://x.example'],
      }),
    ).toThrow(/endpointOrigins must use https/);
  });

  it('reports the expiry, granted scope and type', async () => {
    const fetch = fakeFetch(() =>
      tokenJson('at', 120, { scope: 'openid x', token_type: 'bearer' }),
    );
    const tokens = client({ fetch, now: () => 1_000_000 });
    await expect(tokens.getTokenResponse()).resolves.toEqual({
      accessToken: 'at',
      expiresAt: new Date(1_000_000 + 120_000),
      scope: 'openid x',
      tokenType: 'bearer',
    });
  });

  it('assumes Bearer when the IdP leaves out token_type', async () => {
    const fetch = fakeFetch(() => json({ access_token: 'at', expires_in: 60 }));
    await expect(client({ fetch }).getTokenResponse()).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
  });
});

describe('caching', () => {
  it('reuses the token until shortly before it expires', async () => {
    let now = 0;
    const fetch = countingIdp(3600);
    const tokens = client({ fetch, now: () => now });
    await expect(tokens.getToken()).resolves.toBe('at-1');
    now = 3_540_000 - 1;
    await expect(tokens.getToken()).resolves.toBe('at-1');
    now = 3_540_000;
    await expect(tokens.getToken()).resolves.toBe('at-2');
    expect(fetch.seen).toHaveLength(2);
  });

  it('refreshes very short tokens after half their life', async () => {
    let now = 0;
    const fetch = countingIdp(10);
    const tokens = client({ fetch, now: () => now });
    await tokens.getToken();
    now = 4_999;
    await expect(tokens.getToken()).resolves.toBe('at-1');
    now = 5_000;
    await expect(tokens.getToken()).resolves.toBe('at-2');
  });

  it('honours a custom margin, zero included', async () => {
    let now = 0;
    const fetch = countingIdp(100);
    const tokens = client({ fetch, now: () => now, refreshMarginMs: 0 });
    await tokens.getToken();
    now = 99_999;
    await expect(tokens.getToken()).resolves.toBe('at-1');
    now = 100_000;
    await expect(tokens.getToken()).resolves.toBe('at-2');
  });

  it('shares one token request among 50 concurrent callers', async () => {
    const fetch = fakeFetch(async () => {
      await sleep(20);
      return tokenJson('shared');
    });
    const tokens = client({ fetch });
    const results = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
    expect(new Set(results)).toEqual(new Set(['shared']));
    expect(fetch.seen).toHaveLength(1);
  });

  it('does not remember a failed request: the next call tries again', async () => {
    const fetch = fakeFetch((_request, index) =>
      index === 0 ? json({ error: 'invalid_grant' }, 400) : tokenJson('at-2'),
    );
    const tokens = client({ fetch });
    await expect(tokens.getToken()).rejects.toBeInstanceOf(TokenRequestError);
    await expect(tokens.getToken()).resolves.toBe('at-2');
  });

  it('keeps serving a still-valid token while a refresh fails for an outage', async () => {
    let now = 0;
    const fetch = fakeFetch((_request, index) =>
      index === 0 ? tokenJson('at-1', 3600) : new Response('down', { status: 503 }),
    );
    const tokens = client({ fetch, now: () => now, retry: { attempts: 1 } });
    await tokens.getToken();
    now = 3_590_000;
    await expect(tokens.getToken()).resolves.toBe('at-1');
    now = 3_600_000;
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('remembers a failed refresh for a few seconds: calls serve the token at once', async () => {
    let now = 0;
    const fetch = fakeFetch((_request, index) =>
      index === 0 ? tokenJson('at-1', 3600) : new Response('down', { status: 503 }),
    );
    const tokens = client({ fetch, now: () => now, retry: { attempts: 1 } });
    await tokens.getToken();
    now = 3_550_000; // past the refresh time, still valid
    await expect(tokens.getToken()).resolves.toBe('at-1');
    const asked = fetch.seen.length;
    now += 4_999;
    for (let i = 0; i < 5; i++) await expect(tokens.getToken()).resolves.toBe('at-1');
    expect(fetch.seen).toHaveLength(asked);
    now += 1; // the failure is forgotten: the next call tries again
    await expect(tokens.getToken()).resolves.toBe('at-1');
    expect(fetch.seen).toHaveLength(asked + 1);
  });

  it('does not fall back to a token after a refusal', async () => {
    let now = 0;
    const fetch = fakeFetch((_request, index) =>
      index === 0 ? tokenJson('at-1', 3600) : json({ error: 'invalid_grant' }, 400),
    );
    const tokens = client({ fetch, now: () => now });
    await tokens.getToken();
    now = 3_590_000;
    await expect(tokens.getToken()).rejects.toBeInstanceOf(TokenRequestError);
  });

  it('fetches a new token after invalidate()', async () => {
    const fetch = countingIdp();
    const tokens = client({ fetch });
    await tokens.getToken();
    tokens.invalidate();
    await expect(tokens.getToken()).resolves.toBe('at-2');
  });
});

describe('retries', () => {
  it('retries 5xx answers and recovers', async () => {
    const fetch = fakeFetch((_request, index) =>
      index < 2 ? new Response('oops', { status: 500 }) : tokenJson('at-ok'),
    );
    await expect(client({ fetch }).getToken()).resolves.toBe('at-ok');
    expect(fetch.seen).toHaveLength(3);
  });

  it('gives up after the configured attempts with an UpstreamError', async () => {
    const fetch = fakeFetch(() => new Response('oops', { status: 502 }));
    const error = await rejection(client({ fetch }).getToken());
    expect(error).toBeInstanceOf(UpstreamError);
    expect(fetch.seen).toHaveLength(3);
  });

  it('speaks of getting a token, not of checking one, when the IdP stays down', async () => {
    const fetch = fakeFetch(() => new Response('oops', { status: 503 }));
    const error = await rejection(client({ fetch, retry: { attempts: 1 } }).getToken());
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({
      code: 'ERR_ZITAUTH_UPSTREAM',
      status: 503,
      message: 'No access token could be obtained from the identity provider; try again later',
    });
    expect((error as Error).cause).toBeInstanceOf(UpstreamError);
  });

  it('makes a single attempt when retries are off', async () => {
    const fetch = fakeFetch(() => new Response('oops', { status: 500 }));
    await expect(client({ fetch, retry: { attempts: 1 } }).getToken()).rejects.toBeInstanceOf(
      UpstreamError,
    );
    expect(fetch.seen).toHaveLength(1);
  });

  it('retries network errors and 429', async () => {
    const fetch = fakeFetch((_request, index) => {
      if (index === 0) throw new TypeError('fetch failed');
      if (index === 1) return new Response('slow down', { status: 429 });
      return tokenJson('at-ok');
    });
    await expect(client({ fetch }).getToken()).resolves.toBe('at-ok');
    expect(fetch.seen).toHaveLength(3);
  });

  it('retries timeouts and reports them as ERR_ZITAUTH_UPSTREAM_TIMEOUT', async () => {
    const fetch = fakeFetch(hang);
    const error = await rejection(
      client({ fetch, timeoutMs: 20, retry: { attempts: 2 } }).getToken(),
    );
    expect(error).toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' });
    expect(fetch.seen).toHaveLength(2);
  });

  it('does not retry a refusal', async () => {
    const fetch = fakeFetch(() => json({ error: 'invalid_client' }, 401));
    await expect(client({ fetch }).getToken()).rejects.toBeInstanceOf(TokenRequestError);
    expect(fetch.seen).toHaveLength(1);
  });

  it('does not retry a malformed answer', async () => {
    const fetch = fakeFetch(() => json({ token_type: 'Bearer', expires_in: 60 }));
    await expect(client({ fetch }).getToken()).rejects.toBeInstanceOf(UpstreamError);
    expect(fetch.seen).toHaveLength(1);
  });
});

describe('refusals and malformed answers', () => {
  it('surfaces invalid_grant as a TokenRequestError with the IdP code and a hint', async () => {
    const fetch = fakeFetch(() =>
      json({ error: 'invalid_grant', error_description: 'assertion\nexpired "x"' }, 400),
    );
    const error = (await rejection(client({ fetch }).getToken())) as TokenRequestError;
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({
      name: 'TokenRequestError',
      code: 'ERR_ZITAUTH_TOKEN_REQUEST',
      httpStatus: 400,
      oauthError: 'invalid_grant',
      oauthErrorDescription: 'assertionexpired x',
      status: 502,
      expose: false,
      headers: {},
    });
    expect(error.message).toMatch(
      /^The identity provider refused the token request \(HTTP 400 invalid_grant\): .*key file/,
    );
    expect(error.body).toEqual({
      error: 'server_error',
      error_description: 'The token request was refused',
    });
  });

  it.each([
    ['invalid_client', /check clientId and clientSecret/],
    ['unauthorized_client', /may not use this grant type/],
    ['invalid_scope', /check projectIds and scopes/],
  ])('explains %s', async (code, hint) => {
    const fetch = fakeFetch(() => json({ error: code }, 400));
    await expect(client({ fetch }).getToken()).rejects.toThrow(hint);
  });

  it('reports a refusal without an OAuth body by its status alone', async () => {
    const fetch = fakeFetch(() => new Response('<html>Not Found</html>', { status: 404 }));
    const error = (await rejection(client({ fetch }).getToken())) as TokenRequestError;
    expect(error).toMatchObject({ httpStatus: 404, oauthError: undefined });
    expect(error.message).toBe('The identity provider refused the token request (HTTP 404)');
  });

  it('keeps an unknown error code without a hint', async () => {
    const fetch = fakeFetch(() => json({ error: 'access_denied', error_description: '' }, 403));
    const error = (await rejection(client({ fetch }).getToken())) as TokenRequestError;
    expect(error.message).toBe(
      'The identity provider refused the token request (HTTP 403 access_denied)',
    );
    expect(error.oauthErrorDescription).toBeUndefined();
  });

  it.each<[string, () => Response]>([
    ['no access_token', () => json({ token_type: 'Bearer', expires_in: 60 })],
    ['an access_token with a line break', () => tokenJson('a\nb')],
    ['an empty access_token', () => tokenJson('')],
    ['no expires_in', () => json({ access_token: 'at', token_type: 'Bearer' })],
    ['a zero expires_in', () => tokenJson('at', 0)],
    ['a negative expires_in', () => tokenJson('at', -5)],
    ['a string expires_in', () => tokenJson('at', '60' as unknown as number)],
    ['a DPoP token', () => tokenJson('at', 60, { token_type: 'DPoP' })],
    ['a non-string token_type', () => tokenJson('at', 60, { token_type: 7 })],
    ['garbage', () => new Response('not json', { status: 200 })],
    ['a JSON array', () => json([1, 2])],
    ['status 204', () => new Response(null, { status: 204 })],
  ])('treats an answer with %s as an upstream error', async (_name, answer) => {
    const error = await rejection(client({ fetch: fakeFetch(answer) }).getToken());
    expect(error).toBeInstanceOf(UpstreamError);
  });
});

describe('no credential in errors', () => {
  const SECRET = 'sup3r-s3cret-value';

  it('redacts an assertion or secret echoed back by the IdP', async () => {
    const echo = fakeFetch((request) =>
      json(
        {
          error: 'invalid_grant',
          error_description: `bad ${request.form.get('assertion') ?? request.headers.get('authorization')} ${SECRET}`,
        },
        400,
      ),
    );
    const jwtError = (await rejection(client({ fetch: echo }).getToken())) as TokenRequestError;
    const assertion = echo.seen[0]!.form.get('assertion')!;
    expect(jwtError.oauthErrorDescription).toContain('[redacted]');
    expectNoSecrets(jwtError, [assertion]);
    expect(JSON.stringify(jwtError.oauthErrorDescription)).not.toContain(assertion);

    const basic = client({
      fetch: echo,
      keyFile: undefined,
      clientId: 'svc',
      clientSecret: SECRET,
    });
    const basicError = (await rejection(basic.getToken())) as TokenRequestError;
    const header = echo.seen[1]!.headers.get('authorization')!;
    expect(basicError.oauthErrorDescription).toBe('bad [redacted] [redacted]');
    expectNoSecrets(basicError, [SECRET, header]);
  });

  it('keeps the secret and assertion out of upstream errors', async () => {
    const fetch = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    const basic = client({ fetch, keyFile: undefined, clientId: 'svc', clientSecret: SECRET });
    expectNoSecrets(await rejection(basic.getToken()), [SECRET]);
    const jwt = client({ fetch });
    const error = await rejection(jwt.getToken());
    const assertions = fetch.seen.slice(3).map((request) => request.form.get('assertion')!);
    expectNoSecrets(error, assertions);
  });

  it('keeps an issued token out of malformed-answer errors', async () => {
    const fetch = fakeFetch(() => tokenJson('issued-token-value', -1));
    expectNoSecrets(await rejection(client({ fetch }).getToken()), ['issued-token-value']);
  });
});

describe('close()', () => {
  it('aborts a token request in flight and rejects later calls', async () => {
    const tokens = client({ fetch: fakeFetch(hang) });
    const pending = tokens.getToken();
    await sleep(5);
    tokens.close();
    await expect(pending).rejects.toBeInstanceOf(UpstreamError);
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('stops waiting between retries', async () => {
    const fetch = fakeFetch(() => new Response('down', { status: 500 }));
    const tokens = client({
      fetch,
      retry: { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const pending = tokens.getToken();
    await sleep(5);
    tokens.close();
    await expect(pending).rejects.toBeInstanceOf(UpstreamError);
    expect(fetch.seen).toHaveLength(1);
  });

  it('forgets the cached token', async () => {
    const tokens = client({ fetch: countingIdp() });
    await tokens.getToken();
    tokens.close();
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('does not cache a token that arrives after close()', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A fetch that ignores the abort signal, like some custom implementations.
    const fetch = fakeFetch(async () => {
      await gate;
      return tokenJson('late');
    }, true);
    const tokens = client({ fetch });
    const pending = tokens.getToken();
    await sleep(5);
    tokens.close();
    release();
    await pending.catch(() => undefined);
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });
});

describe('client.fetch', () => {
  /** A token endpoint and an API that accepts only the tokens in `valid`. */
  function world(valid: Set<string>) {
    let issued = 0;
    return fakeFetch((request) => {
      issued += request.url === TOKEN_ENDPOINT ? 1 : 0;
      if (request.url === TOKEN_ENDPOINT) return tokenJson(`at-${issued}`);
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
      return valid.has(token) ? json({ ok: token }) : new Response(null, { status: 401 });
    });
  }

  it('sends the token as Bearer and keeps the caller headers', async () => {
    const fetch = world(new Set(['at-1']));
    const tokens = client({ fetch });
    const response = await tokens.fetch('https://api.example/quotes', {
      method: 'POST',
      headers: { 'x-trace': '1', authorization: 'Basic nope' },
      body: 'hello',
    });
    await expect(response.json()).resolves.toEqual({ ok: 'at-1' });
    const apiCall = fetch.seen[1]!;
    expect(apiCall.headers.get('authorization')).toBe('Bearer at-1');
    expect(apiCall.headers.get('x-trace')).toBe('1');
    expect(apiCall.method).toBe('POST');
  });

  it('renews the token once and resends after a 401', async () => {
    const fetch = world(new Set(['at-2']));
    const tokens = client({ fetch });
    const response = await tokens.fetch(new URL('https://api.example/quotes'), {
      body: new URLSearchParams({ a: '1' }),
      method: 'POST',
    });
    expect(response.status).toBe(200);
    expect(fetch.seen.map((request) => request.url)).toEqual([
      TOKEN_ENDPOINT,
      'https://api.example/quotes',
      TOKEN_ENDPOINT,
      'https://api.example/quotes',
    ]);
  });

  it('returns the second 401 instead of looping', async () => {
    const fetch = world(new Set());
    const response = await client({ fetch }).fetch('https://api.example/x');
    expect(response.status).toBe(401);
    expect(fetch.seen).toHaveLength(4);
  });

  it.each<[string, NonNullable<RequestInit['body']>]>([
    ['bytes', new Uint8Array([1, 2])],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['a Blob', new Blob(['x'])],
    ['FormData', new FormData()],
  ])('resends a body of %s', async (_name, body) => {
    const fetch = world(new Set(['at-2']));
    const response = await client({ fetch }).fetch('https://api.example/x', {
      method: 'POST',
      body,
    });
    expect(response.status).toBe(200);
  });

  it('does not resend a stream body (it was consumed)', async () => {
    const fetch = world(new Set(['at-2']));
    const body = new ReadableStream({
      start(controller) {
        controller.close();
      },
    });
    const response = await client({ fetch }).fetch('https://api.example/x', {
      method: 'POST',
      body,
    });
    expect(response.status).toBe(401);
    expect(fetch.seen).toHaveLength(2);
  });

  it('does not retry with a personal access token (it would be the same)', async () => {
    const fetch = world(new Set());
    const tokens = client({ fetch, keyFile: undefined, personalAccessToken: 'pat' });
    const response = await tokens.fetch('https://api.example/x');
    expect(response.status).toBe(401);
    expect(fetch.seen).toHaveLength(1);
  });

  it('renews once when several calls get a 401 for the same token', async () => {
    const fetch = world(new Set(['at-2']));
    const tokens = client({ fetch });
    await tokens.getToken();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => tokens.fetch('https://api.example/x')),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const tokenCalls = fetch.seen.filter((request) => request.url === TOKEN_ENDPOINT);
    expect(tokenCalls).toHaveLength(2);
  });

  it('uses the global fetch by default', async () => {
    const original = globalThis.fetch;
    const fetch = world(new Set(['pat']));
    globalThis.fetch = fetch as typeof globalThis.fetch;
    try {
      const tokens = createTokenClient({ issuer: ISSUER, personalAccessToken: 'pat' });
      await expect(tokens.fetch('https://api.example/x')).resolves.toMatchObject({ status: 200 });
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('entry point', () => {
  it('exports fetchUserinfo next to the client', () => {
    expect(fetchUserinfo).toEqual(expect.any(Function));
  });
});

describe('over HTTP against the testing IdP', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.close());
  beforeEach(() => {
    idp.faults.clear();
    idp.resetCalls();
  });

  /** The real fetch, recording request bodies and Authorization headers to check redaction. */
  function recordingFetch(): FetchLike & { sent: string[] } {
    const sent: string[] = [];
    const fetch: FetchLike = (input, init) => {
      sent.push(String(init?.body ?? ''), new Headers(init?.headers).get('authorization') ?? '');
      return globalThis.fetch(input, init);
    };
    return Object.assign(fetch, { sent });
  }

  /** The assertions a recorded fetch sent. */
  const assertionsIn = (sent: readonly string[]): string[] =>
    sent.map((body) => new URLSearchParams(body).get('assertion') ?? '').filter(Boolean);

  it('gets a JWT with the JWT bearer grant, from a key file on disk', async () => {
    const user = idp.createServiceUser({ roles: ['reader'], accessTokenType: 'jwt' });
    const keyFile = await idp.writeKeyFile(user.keyFile);
    const projectId = idp.defaultProject.id;
    const tokens = createTokenClient({ issuer: idp.issuer, keyFile, projectIds: [projectId] });
    const response = await tokens.getTokenResponse();
    const claims = decodeJwt(response.accessToken);
    expect(claims).toMatchObject({ iss: idp.issuer, sub: user.userId });
    expect(claims.aud).toContain(projectId);
    expect(claims[`urn:zitadel:iam:org:project:${projectId}:roles`]).toHaveProperty('reader');
    // ZITADEL's token response has no scope field (zitadel/oidc AccessTokenResponse).
    expect(response.scope).toBeUndefined();
    expect(response.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(idp.calls('discovery')).toBe(1);
    tokens.close();
  });

  it('gets a token with client credentials', async () => {
    const user = idp.createServiceUser({ accessTokenType: 'opaque' });
    const tokens = createTokenClient({
      issuer: idp.issuer,
      clientId: user.clientId,
      clientSecret: user.clientSecret,
    });
    const token = await tokens.getToken();
    await expect(fetchUserinfo(token, { issuer: idp.issuer })).resolves.toMatchObject({
      sub: user.userId,
    });
    expect(idp.calls('token')).toBe(1);
  });

  it('uses a personal access token without calling the token endpoint', async () => {
    const user = idp.createServiceUser();
    const tokens = createTokenClient({ issuer: idp.issuer, personalAccessToken: user.pat });
    await expect(tokens.getToken()).resolves.toBe(user.pat);
    const response = await tokens.fetch(`${idp.issuer}/oidc/v1/userinfo`);
    await expect(response.json()).resolves.toMatchObject({ sub: user.userId });
    expect(idp.calls('token')).toBe(0);
  });

  it('makes exactly one token request for 50 concurrent getToken() calls', async () => {
    const user = idp.createServiceUser();
    const tokens = createTokenClient({ issuer: idp.issuer, keyFile: user.keyFile });
    const results = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
    expect(new Set(results).size).toBe(1);
    expect(idp.calls('token')).toBe(1);
  });

  it('refreshes a token near expiry before using it (injected clock)', async () => {
    const user = idp.createServiceUser();
    let offsetMs = 0;
    const tokens = createTokenClient({
      issuer: idp.issuer,
      clientId: user.clientId,
      clientSecret: user.clientSecret,
      now: () => Date.now() + offsetMs,
    });
    const first = await tokens.getTokenResponse();
    // Just outside, then just inside the default 60 s refresh margin.
    offsetMs = first.expiresAt.getTime() - 61_000 - Date.now();
    await expect(tokens.getToken()).resolves.toBe(first.accessToken);
    offsetMs = first.expiresAt.getTime() - 59_000 - Date.now();
    const second = await tokens.getTokenResponse();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime());
    expect(idp.calls('token')).toBe(2);
  });

  it('recovers from an IdP 500 by retrying', async () => {
    const user = idp.createServiceUser();
    idp.faults.set('token', { status: 500, times: 1 });
    const tokens = createTokenClient({
      issuer: idp.issuer,
      keyFile: user.keyFile,
      retry: { baseDelayMs: 5 },
    });
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
    expect(idp.calls('token')).toBe(2);
  });

  it('reports an IdP that stays down as UpstreamError after the attempts, then recovers', async () => {
    const user = idp.createServiceUser();
    idp.faults.set('token', { status: 503 });
    const fetch = recordingFetch();
    const tokens = createTokenClient({
      issuer: idp.issuer,
      keyFile: user.keyFile,
      fetch,
      retry: { baseDelayMs: 5 },
    });
    const error = await rejection(tokens.getToken());
    expect(error).toBeInstanceOf(UpstreamError);
    expect(idp.calls('token')).toBe(3);
    expectNoSecrets(error, assertionsIn(fetch.sent));
    idp.faults.clear('token');
    await expect(tokens.getToken()).resolves.toEqual(expect.any(String));
  });

  it('maps a dropped connection and a garbage answer to UpstreamError', async () => {
    const user = idp.createServiceUser();
    const tokens = createTokenClient({
      issuer: idp.issuer,
      keyFile: user.keyFile,
      retry: { attempts: 1 },
    });
    idp.faults.set('token', { closeConnection: true });
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
    idp.faults.set('token', { body: 'garbage' });
    await expect(tokens.getToken()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('surfaces invalid_grant for a key that is not registered, without the assertion', async () => {
    const user = idp.createServiceUser();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stranger: ServiceAccountKeyFile = {
      ...user.keyFile,
      keyId: 'not-registered',
      key: other.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
    const fetch = recordingFetch();
    const tokens = createTokenClient({ issuer: idp.issuer, keyFile: stranger, fetch });
    const error = (await rejection(tokens.getToken())) as TokenRequestError;
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ httpStatus: 400, oauthError: 'invalid_grant' });
    expect(error.oauthErrorDescription).toMatch(/kid is not registered/);
    expect(error.message).toMatch(/invalid_grant.*key file/);
    expect(idp.calls('token')).toBe(1);
    expectNoSecrets(error, [...assertionsIn(fetch.sent), stranger.key]);
  });

  it('surfaces invalid_grant for a key file naming another user', async () => {
    const user = idp.createServiceUser();
    const tokens = createTokenClient({
      issuer: idp.issuer,
      keyFile: { ...user.keyFile, userId: '999999999999999999' },
    });
    await expect(tokens.getToken()).rejects.toMatchObject({
      name: 'TokenRequestError',
      oauthError: 'invalid_grant',
    });
  });

  it('surfaces invalid_grant for an expired assertion (clock far in the past)', async () => {
    const user = idp.createServiceUser();
    const tokens = createTokenClient({
      issuer: idp.issuer,
      keyFile: user.keyFile,
      now: () => Date.now() - 2 * 3_600_000,
    });
    const error = (await rejection(tokens.getToken())) as TokenRequestError;
    expect(error).toMatchObject({ oauthError: 'invalid_grant' });
    expect(error.oauthErrorDescription).toMatch(/too old|expired/);
    expect(error.message).toMatch(/clock/);
  });

  it('surfaces invalid_client for a wrong client secret, without the secret', async () => {
    const user = idp.createServiceUser();
    const fetch = recordingFetch();
    const tokens = createTokenClient({
      issuer: idp.issuer,
      clientId: user.clientId,
      clientSecret: 'wrong-secret-value',
      fetch,
    });
    const error = (await rejection(tokens.getToken())) as TokenRequestError;
    expect(error).toMatchObject({ httpStatus: 401, oauthError: 'invalid_client' });
    expectNoSecrets(error, ['wrong-secret-value', ...fetch.sent.filter(Boolean)]);
  });

  it('renews a revoked token once when the API answers 401', async () => {
    const user = idp.createServiceUser({ accessTokenType: 'opaque' });
    const tokens = createTokenClient({ issuer: idp.issuer, keyFile: user.keyFile });
    const first = await tokens.getToken();
    idp.revoke(first);
    const response = await tokens.fetch(`${idp.issuer}/oidc/v1/userinfo`);
    expect(response.status).toBe(200);
    await expect(response.json()).resolves.toMatchObject({ sub: user.userId });
    await expect(tokens.getToken()).resolves.not.toBe(first);
    expect(idp.calls('token')).toBe(2);
  });
});
