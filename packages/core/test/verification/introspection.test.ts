/**
 * Introspection against an injected `fetch` that plays ZITADEL's introspection endpoint:
 * request shape, both client authentication methods (assertions verified with the public
 * key), key file inputs, how each answer maps to claims / null / UpstreamError, the
 * concurrency cap, and that the token never leaks into an error.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { UpstreamError, ZitauthConfigError } from '../../src/errors.js';
import type { FetchLike } from '../../src/idp/http.js';
import {
  createIntrospector,
  type IntrospectorOptions,
} from '../../src/verification/introspection.js';
import type { KeyFileInput } from '../../src/idp/key-file.js';
import { findOperatorFault, OperatorFault } from '../../src/observability/operator-fault.js';

const ISSUER = 'https://acme.zitadel.cloud';
const ENDPOINT = `${ISSUER}/oauth/v2/introspect`;
const CLIENT_ID = '78366401571920522@amce';
const SECRET = 'veryweaksecret!';
const TOKEN = 'VjVxyCZmRmWYqd3_F5db9Pb9mHR-opaque-token-under-test';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 250);

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const KEY_FILE = {
  type: 'application',
  keyId: '81693565968962154',
  key: PEM,
  appId: '81693565968896618',
  clientId: CLIENT_ID,
} as const;

const tempDir = mkdtempSync(join(tmpdir(), 'zitauth-introspection-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** One request as the IdP saw it. */
interface SeenRequest {
  url: string;
  method: string | undefined;
  headers: Headers;
  form: URLSearchParams;
  redirect: RequestInit['redirect'];
}

/** A fake introspection endpoint: records each request and answers with `respond`. */
function idp(
  respond: (request: SeenRequest) => Response | Promise<Response> = () => json({ active: true }),
): FetchLike & { seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const request: SeenRequest = {
      url: String(url),
      method: init?.method,
      headers: new Headers(init?.headers),
      form: new URLSearchParams(String(init?.body)),
      redirect: init?.redirect,
    };
    seen.push(request);
    return respond(request);
  };
  return Object.assign(fetch, { seen });
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function introspector(fetch: FetchLike, overrides: Partial<IntrospectorOptions> = {}) {
  return createIntrospector({
    issuer: ISSUER,
    endpoint: async () => ENDPOINT,
    auth: { clientId: CLIENT_ID, clientSecret: SECRET },
    http: { fetch },
    now: () => NOW,
    ...overrides,
  });
}

/** Settles `promise`, expecting an UpstreamError. */
async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

/** Every text an error chain could put in a log line. */
function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 10; depth += 1) {
    texts.push(String(current), JSON.stringify(current) ?? '');
    if (current instanceof Error) texts.push(current.message, current.stack ?? '');
    current = current instanceof Error ? current.cause : undefined;
  }
  return texts;
}

function configError(build: () => unknown): ZitauthConfigError {
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ZitauthConfigError);
  return caught as ZitauthConfigError;
}

describe('the introspection request', () => {
  it('POSTs the token as a form with the Basic header of ZITADEL’s vector', async () => {
    const fetch = idp();
    await introspector(fetch)(TOKEN);
    const [request] = fetch.seen;
    expect(request?.url).toBe(ENDPOINT);
    expect(request?.method).toBe('POST');
    expect(request?.redirect).toBe('manual');
    expect(request?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.get('accept')).toBe('application/json');
    expect(request?.headers.get('authorization')).toBe(
      'Basic NzgzNjY0MDE1NzE5MjA1MjIlNDBhbWNlOnZlcnl3ZWFrc2VjcmV0JTIx',
    );
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      token: TOKEN,
      token_type_hint: 'access_token',
    });
  });

  it('form-encodes a token with reserved characters', async () => {
    const fetch = idp();
    await introspector(fetch)('a+b/c=d&e f');
    expect(fetch.seen[0]?.form.get('token')).toBe('a+b/c=d&e f');
  });

  it('resolves the endpoint lazily, on every call', async () => {
    let resolved = 0;
    const fetch = idp();
    const introspect = introspector(fetch, {
      endpoint: async () => `${ISSUER}/introspect/${(resolved += 1)}`,
    });
    expect(resolved).toBe(0);
    await introspect(TOKEN);
    await introspect(TOKEN);
    expect(fetch.seen.map((request) => request.url)).toEqual([
      `${ISSUER}/introspect/1`,
      `${ISSUER}/introspect/2`,
    ]);
  });
});

describe('private_key_jwt', () => {
  it('sends a signed assertion instead of a Basic header', async () => {
    const fetch = idp();
    await introspector(fetch, { auth: { keyFile: KEY_FILE } })(TOKEN);
    const request = fetch.seen[0];
    expect(request?.headers.has('authorization')).toBe(false);
    expect(request?.form.get('token')).toBe(TOKEN);
    expect(request?.form.get('token_type_hint')).toBe('access_token');
    expect(request?.form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
  });

  it('signs RS256 with kid = keyId, iss = sub = clientId, aud = issuer, a short life', async () => {
    const fetch = idp();
    await introspector(fetch, { auth: { keyFile: KEY_FILE } })(TOKEN);
    const assertion = fetch.seen[0]?.form.get('client_assertion') ?? '';
    const { payload, protectedHeader } = await jwtVerify(assertion, publicKey, {
      algorithms: ['RS256'],
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience: ISSUER,
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: KEY_FILE.keyId });
    expect(payload.aud).toBe(ISSUER);
    expect(payload.iat).toBe(Math.floor(NOW / 1000));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeGreaterThan(0);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(60);
    expect(payload.jti).toEqual(expect.any(String));
  });

  it('signs a fresh assertion with a unique jti on every call', async () => {
    const fetch = idp();
    const introspect = introspector(fetch, { auth: { keyFile: KEY_FILE } });
    await Promise.all([introspect(TOKEN), introspect(TOKEN), introspect(TOKEN)]);
    const assertions = fetch.seen.map((request) => request.form.get('client_assertion') ?? '');
    expect(new Set(assertions).size).toBe(3);
    expect(new Set(assertions.map((jwt) => decodeJwt(jwt).jti)).size).toBe(3);
  });

  it('takes iat from the system clock by default', async () => {
    const fetch = idp();
    const introspect = createIntrospector({
      issuer: ISSUER,
      endpoint: async () => ENDPOINT,
      auth: { keyFile: KEY_FILE },
      http: { fetch },
    });
    const before = Math.floor(Date.now() / 1000);
    await introspect(TOKEN);
    const { iat } = decodeJwt(fetch.seen[0]?.form.get('client_assertion') ?? '');
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('takes iat from the injected clock', async () => {
    let now = NOW;
    const fetch = idp();
    const introspect = introspector(fetch, { auth: { keyFile: KEY_FILE }, now: () => now });
    await introspect(TOKEN);
    now += 3_600_000;
    await introspect(TOKEN);
    const iats = fetch.seen.map((r) => decodeJwt(r.form.get('client_assertion') ?? '').iat);
    expect(iats).toEqual([Math.floor(NOW / 1000), Math.floor(NOW / 1000) + 3600]);
  });

  it('uses the issuer exactly as configured for aud, trailing slash included', async () => {
    const fetch = idp();
    await introspector(fetch, { issuer: `${ISSUER}/`, auth: { keyFile: KEY_FILE } })(TOKEN);
    const assertion = fetch.seen[0]?.form.get('client_assertion') ?? '';
    expect(decodeJwt(assertion).aud).toBe(`${ISSUER}/`);
    expect(decodeProtectedHeader(assertion).alg).toBe('RS256');
  });
});

describe('key file inputs', () => {
  async function assertionOf(keyFile: KeyFileInput): Promise<string> {
    const fetch = idp();
    await introspector(fetch, { auth: { keyFile } })(TOKEN);
    return fetch.seen[0]?.form.get('client_assertion') ?? '';
  }

  async function expectSignedByKeyFile(keyFile: KeyFileInput): Promise<void> {
    const { payload } = await jwtVerify(await assertionOf(keyFile), publicKey, {
      issuer: CLIENT_ID,
      audience: ISSUER,
      currentDate: new Date(NOW),
    });
    expect(payload.sub).toBe(CLIENT_ID);
  }

  it('reads a key file from a path', async () => {
    const path = join(tempDir, 'application-key.json');
    writeFileSync(path, JSON.stringify(KEY_FILE, null, 2));
    await expectSignedByKeyFile(path);
  });

  it('takes the JSON text, its newlines escaped as in the downloaded file', async () => {
    const text = JSON.stringify(KEY_FILE);
    expect(text).toContain('\\n');
    await expectSignedByKeyFile(text);
  });

  it('repairs a key whose newlines arrive as literal \\n (pasted into an env var)', async () => {
    await expectSignedByKeyFile({ ...KEY_FILE, key: PEM.replace(/\n/g, '\\n') });
    await expectSignedByKeyFile(JSON.stringify({ ...KEY_FILE, key: PEM.replace(/\n/g, '\\n') }));
  });

  it('takes the parsed object', async () => {
    await expectSignedByKeyFile(KEY_FILE);
  });

  it('takes a PKCS#8 key too', async () => {
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expectSignedByKeyFile({ ...KEY_FILE, key: pkcs8 });
  });
});

describe('configuration mistakes throw ZitauthConfigError at construction', () => {
  const fetch = idp();

  it.each([
    [
      'a service-user key file',
      { ...KEY_FILE, type: 'serviceaccount', userId: '1' },
      /application/,
    ],
    ['an unknown type', { ...KEY_FILE, type: 'user' }, /expected "application"/],
    ['no keyId', { ...KEY_FILE, keyId: undefined }, /"keyId"/],
    ['no clientId', { ...KEY_FILE, clientId: '' }, /"clientId"/],
    ['no key', { ...KEY_FILE, key: undefined }, /"key"/],
    ['no type', { ...KEY_FILE, type: undefined }, /"type"/],
    ['a garbage PEM', { ...KEY_FILE, key: 'not-a-pem-SECRETBYTES' }, /RSA private key/],
    [
      'a public key',
      { ...KEY_FILE, key: publicKey.export({ type: 'spki', format: 'pem' }) },
      /RSA/,
    ],
    ['invalid JSON text', '{"type":"application",', /not valid JSON/],
    ['JSON of another shape', ' {"hello":"world"} ', /no "type"/],
    ['a missing file', join(tempDir, 'missing.json'), /cannot read/],
    ['an empty string', '', /key file path/],
    ['a number', 42, /key file path/],
    ['undefined', undefined, /key file path/],
  ])('rejects %s with ERR_ZITAUTH_INVALID_KEY_FILE', (_name, keyFile, message) => {
    const error = configError(() =>
      introspector(fetch, { auth: { keyFile: keyFile as unknown as KeyFileInput } }),
    );
    expect(error.code).toBe('ERR_ZITAUTH_INVALID_KEY_FILE');
    expect(error.message).toMatch(/^zitauth: introspection\.keyFile/);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('SECRETBYTES');
    expect(error.message).not.toContain('BEGIN');
  });

  it.each([
    ['an empty clientId', { clientId: '', clientSecret: SECRET }, /introspection\.clientId/],
    ['a blank clientId', { clientId: '  ', clientSecret: SECRET }, /introspection\.clientId/],
    ['no clientSecret', { clientId: CLIENT_ID }, /introspection\.clientSecret/],
    ['a numeric clientSecret', { clientId: CLIENT_ID, clientSecret: 42 }, /clientSecret/],
    ['no credentials at all', {}, /introspection\.clientId/],
    ['both methods', { keyFile: KEY_FILE, clientId: CLIENT_ID }, /either keyFile or clientId/],
    ['null', null, /\{ clientId, clientSecret \} or \{ keyFile \}/],
    ['a string', 'secret', /\{ clientId, clientSecret \} or \{ keyFile \}/],
  ])('rejects %s with ERR_ZITAUTH_INVALID_OPTION', (_name, auth, message) => {
    const error = configError(() =>
      introspector(fetch, { auth: auth as unknown as IntrospectorOptions['auth'] }),
    );
    expect(error.code).toBe('ERR_ZITAUTH_INVALID_OPTION');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SECRET);
  });

  it('says where to find the client id and secret', () => {
    expect(
      configError(() => introspector(fetch, { auth: { clientId: '', clientSecret: 'x' } })).message,
    ).toBe(
      'zitauth: introspection.clientId must be a non-empty string (the Client ID of the API application in the ZITADEL console)',
    );
  });

  it.each([
    ['an empty issuer', { issuer: '' }, /issuer must be a non-empty string/],
    ['an endpoint that is not a function', { endpoint: ENDPOINT }, /resolver must be a function/],
    ['maxConcurrent 0', { maxConcurrent: 0 }, /maxConcurrent must be an integer of at least 1/],
    ['a fractional maxConcurrent', { maxConcurrent: 1.5 }, /maxConcurrent/],
    ['a negative maxQueued', { maxQueued: -1 }, /maxQueued must be an integer of at least 0/],
  ])('rejects %s', (_name, overrides, message) => {
    const error = configError(() =>
      introspector(fetch, overrides as unknown as Partial<IntrospectorOptions>),
    );
    expect(error.code).toBe('ERR_ZITAUTH_INVALID_OPTION');
    expect(error.message).toMatch(message);
  });

  it('makes no IdP call while building', () => {
    const quiet = idp();
    introspector(quiet, { auth: { keyFile: KEY_FILE } });
    expect(quiet.seen).toHaveLength(0);
  });
});

describe('the introspection response', () => {
  it('names the client as subject when an active answer has no sub (RFC 9068 §2.2)', async () => {
    const answer = { active: true, client_id: 'service@project', exp: 1_900_000_000 };
    await expect(introspector(idp(() => json(answer)))(TOKEN)).resolves.toEqual({
      ...answer,
      sub: 'service@project',
    });
    const anonymous = { active: true, exp: 1_900_000_000 };
    await expect(introspector(idp(() => json(anonymous)))(TOKEN)).resolves.toEqual(anonymous);
  });

  it('resolves the claims of an active token', async () => {
    const claims = {
      active: true,
      sub: '178204173316174381',
      client_id: '78366401571920522@amce',
      aud: ['78366401571920522@amce', '178204173316174380'],
      exp: 1_900_000_000,
      iss: ISSUER,
      'urn:zitadel:iam:org:project:roles': { admin: { '1782': 'acme.zitadel.cloud' } },
    };
    await expect(introspector(idp(() => json(claims)))(TOKEN)).resolves.toEqual(claims);
  });

  it('resolves null when active is false', async () => {
    await expect(introspector(idp(() => json({ active: false })))(TOKEN)).resolves.toBeNull();
  });

  it.each([
    ['the string "true"', { active: 'true' }],
    ['the number 1', { active: 1 }],
    ['missing', { sub: 'x' }],
    ['null', { active: null }],
    ['an object', { active: { value: true } }],
  ])('rejects with UpstreamError, not inactive, when active is %s', async (_name, body) => {
    const error = await upstreamError(introspector(idp(() => json(body)))(TOKEN));
    expect((error.cause as Error).message).toMatch(/no boolean "active"/);
  });

  it.each([
    ['text/html', 'text/html; charset=utf-8'],
    ['no Content-Type', undefined],
    ['text/plain', 'text/plain'],
  ])('rejects an answer sent as %s with UpstreamError', async (_name, type) => {
    const body = JSON.stringify({ active: true, sub: 'x' });
    const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
    const fetch = idp(() => {
      const response = new Response(body, { status: 200, headers });
      if (type === undefined) response.headers.delete('content-type');
      return response;
    });
    const error = await upstreamError(introspector(fetch)(TOKEN));
    expect((error.cause as Error).message).toMatch(/Content-Type that is not JSON/);
  });

  it.each(['application/json; charset=utf-8', 'application/token-introspection+json'])(
    'accepts an answer sent as %s',
    async (type) => {
      const body = JSON.stringify({ active: false });
      const fetch = idp(
        () => new Response(body, { status: 200, headers: { 'content-type': type } }),
      );
      await expect(introspector(fetch)(TOKEN)).resolves.toBeNull();
    },
  );

  it.each([
    ['token_type DPoP', { token_type: 'DPoP' }],
    ['token_type N_A', { token_type: 'N_A' }],
    ['a non-string token_type', { token_type: 7 }],
    ['a cnf claim', { cnf: { jkt: 'thumbprint' } }],
  ])('refuses an active token with %s as not a bearer token', async (_name, extra) => {
    const fetch = idp(() => json({ active: true, sub: 'x', ...extra }));
    await expect(introspector(fetch)(TOKEN)).rejects.toMatchObject({
      status: 401,
      code: 'ERR_ZITAUTH_TOKEN_TYPE',
    });
  });

  it('accepts token_type bearer in any case', async () => {
    const fetch = idp(() => json({ active: true, sub: 'x', token_type: 'bearer' }));
    await expect(introspector(fetch)(TOKEN)).resolves.toMatchObject({ sub: 'x' });
  });

  it.each([401, 403])(
    'treats %i as our own credentials failing: 503, never invalid_token',
    async (status) => {
      const fetch = idp(() => json({ error: 'invalid_client' }, status));
      const error = await upstreamError(introspector(fetch)(TOKEN));
      expect(error.status).toBe(503);
      expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
      expect(error.error).toBeUndefined();
      expect(error.body.error).toBe('temporarily_unavailable');
      expect(error.headers['Retry-After']).toBe('5');
      const fault = error.cause as OperatorFault;
      expect(fault).toBeInstanceOf(OperatorFault);
      expect(fault.kind).toBe('introspection-client-refused');
      expect(fault.message).toBe(
        `zitauth: introspection refused the client credentials (HTTP ${status} from ${ENDPOINT}); ` +
          'check introspection.clientId and clientSecret (or keyFile): they belong to the API ' +
          'application of your project in the ZITADEL console',
      );
      expect(errorTexts(error).join('\n')).not.toContain(SECRET);
    },
  );

  it.each([400, 404, 429])('turns a %i into UpstreamError', async (status) => {
    const error = await upstreamError(introspector(idp(() => json({}, status)))(TOKEN));
    const fault = error.cause as OperatorFault;
    expect(fault.kind).toBe('introspection-unreachable');
    expect(fault.message).toBe(
      `zitauth: the introspection endpoint ${ENDPOINT} could not be used ` +
        `(the introspection endpoint answered HTTP ${status}); check that the IdP is reachable from here`,
    );
  });

  it.each([
    ['a 201', () => json({ active: true }, 201)],
    ['a 204', () => new Response(null, { status: 204 })],
    ['a 500', () => json({ active: true }, 500)],
    ['a 503', () => new Response('maintenance', { status: 503 })],
    ['a garbage body', () => new Response('<html>oops</html>')],
    ['an empty body', () => new Response('')],
    ['a JSON array', () => json([{ active: true }])],
    ['JSON null', () => json(null)],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: ENDPOINT } })],
    ['a network failure', () => Promise.reject(new TypeError('fetch failed'))],
  ])('turns %s into UpstreamError', async (_name, respond) => {
    const error = await upstreamError(introspector(idp(respond))(TOKEN));
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
  });

  it('turns a body over the size cap into UpstreamError', async () => {
    const huge = json({ active: true, padding: 'x'.repeat(2_000_000) });
    const error = await upstreamError(introspector(idp(() => huge))(TOKEN));
    expect((error.cause as Error).message).toMatch(/byte cap/);
    expect((error.cause as OperatorFault).kind).toBe('introspection-unreachable');
  });

  it('honours a smaller body cap', async () => {
    const fetch = idp(() => json({ active: true, sub: 'x'.repeat(100) }));
    await upstreamError(introspector(fetch, { http: { fetch, maxResponseBytes: 64 } })(TOKEN));
  });

  it('times out with ERR_ZITAUTH_UPSTREAM_TIMEOUT', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const error = await upstreamError(
      introspector(hanging, { http: { fetch: hanging, timeoutMs: 20 } })(TOKEN),
    );
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM_TIMEOUT');
  });

  it('is aborted by the owner’s shutdown signal', async () => {
    const owner = new AbortController();
    owner.abort();
    const fetch = idp((request) => json({ active: request.form.has('token') }));
    const aborting: FetchLike = (url, init) =>
      init?.signal?.aborted === true ? Promise.reject(init.signal.reason) : fetch(url, init);
    await upstreamError(
      introspector(aborting, { http: { fetch: aborting, signal: owner.signal } })(TOKEN),
    );
    expect(fetch.seen).toHaveLength(0);
  });

  it('passes on the UpstreamError of a failing endpoint resolver', async () => {
    const failure = new UpstreamError('ERR_ZITAUTH_UPSTREAM_TIMEOUT');
    const fetch = idp();
    const introspect = introspector(fetch, { endpoint: () => Promise.reject(failure) });
    await expect(introspect(TOKEN)).rejects.toBe(failure);
    expect(fetch.seen).toHaveLength(0);
  });

  it("wraps any other failure in UpstreamError, keeping it as the fault's cause", async () => {
    const failure = new Error('resolver bug');
    const error = await upstreamError(
      introspector(idp(), { endpoint: () => Promise.reject(failure) })(TOKEN),
    );
    expect(findOperatorFault(error)?.cause).toBe(failure);
    expect(findOperatorFault(error)?.message).toContain(
      '(not resolved) could not be used (resolver bug)',
    );
  });
});

describe('the token never appears in an error', () => {
  const echoing = (status: number) => (request: SeenRequest) =>
    new Response(`rejected token=${request.form.get('token') ?? ''}`, { status });

  it.each([
    ['401 echoing the request', echoing(401)],
    ['403 echoing the request', echoing(403)],
    ['400 echoing the request', echoing(400)],
    ['500 echoing the request', echoing(500)],
    ['a garbage 200 echoing the request', echoing(200)],
    ['a body starting with the token', (r: SeenRequest) => new Response(r.form.get('token'))],
    ['a redirect', () => new Response(null, { status: 307, headers: { location: ENDPOINT } })],
    ['a JSON array', () => json([])],
    ['a huge body', () => json({ active: true, padding: 'x'.repeat(2_000_000) })],
  ])('on %s', async (_name, respond) => {
    const error = await upstreamError(introspector(idp(respond))(TOKEN));
    for (const text of errorTexts(error)) expect(text).not.toContain(TOKEN);
  });

  it('on a timeout', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const error = await upstreamError(
      introspector(hanging, { http: { fetch: hanging, timeoutMs: 10 } })(TOKEN),
    );
    for (const text of errorTexts(error)) expect(text).not.toContain(TOKEN);
  });

  it('with private_key_jwt', async () => {
    const error = await upstreamError(
      introspector(idp(echoing(401)), { auth: { keyFile: KEY_FILE } })(TOKEN),
    );
    for (const text of errorTexts(error)) expect(text).not.toContain(TOKEN);
  });
});

describe('the concurrency cap', () => {
  /** An IdP whose answers the test releases, counting calls in flight. */
  function gatedIdp() {
    const gates: (() => void)[] = [];
    const state = { inFlight: 0, maxInFlight: 0 };
    const fetch = idp(async () => {
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      state.inFlight -= 1;
      return json({ active: true });
    });
    return { fetch, gates, state };
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('keeps at most maxConcurrent calls in flight and resolves every caller', async () => {
    const state = { inFlight: 0, maxInFlight: 0 };
    const fetch = idp(async () => {
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      state.inFlight -= 1;
      return json({ active: true });
    });
    const introspect = introspector(fetch, { maxConcurrent: 2 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => introspect(`${TOKEN}-${i}`)),
    );
    expect(results).toHaveLength(10);
    expect(results.every((claims) => claims?.['active'] === true)).toBe(true);
    expect(state.maxInFlight).toBe(2);
    expect(fetch.seen).toHaveLength(10);
  });

  it('starts waiting callers in arrival order', async () => {
    const { fetch, gates } = gatedIdp();
    const introspect = introspector(fetch, { maxConcurrent: 1 });
    const pending = ['t1', 't2', 't3'].map((token) => introspect(token));
    for (let i = 0; i < 3; i += 1) {
      await settle();
      gates.shift()?.();
    }
    await Promise.all(pending);
    expect(fetch.seen.map((request) => request.form.get('token'))).toEqual(['t1', 't2', 't3']);
  });

  it('allows 64 calls in flight by default, 16 of them only for known tokens', async () => {
    const { fetch, gates, state } = gatedIdp();
    const introspect = introspector(fetch);
    const unknown = Array.from({ length: 60 }, (_, i) => introspect(`${TOKEN}-${i}`));
    await settle();
    expect(state.inFlight).toBe(48);
    const known = Array.from({ length: 20 }, (_, i) => introspect(`${TOKEN}-k${i}`, true));
    const pending = [...unknown, ...known];
    await settle();
    expect(state.inFlight).toBe(64);
    while (gates.length > 0) {
      for (const release of gates.splice(0)) release();
      await settle();
    }
    await Promise.all(pending);
    expect(state.maxInFlight).toBe(64);
  });

  it('sheds callers with UpstreamError once the queue is full', async () => {
    const { fetch, gates } = gatedIdp();
    const introspect = introspector(fetch, { maxConcurrent: 1, maxQueued: 1 });
    const running = introspect('t1');
    const queued = introspect('t2');
    const error = await upstreamError(introspect('t3'));
    expect((error.cause as Error).message).toMatch(/queue is full/);
    await settle();
    gates.shift()?.();
    await settle();
    gates.shift()?.();
    await expect(Promise.all([running, queued])).resolves.toHaveLength(2);
    expect(fetch.seen.map((request) => request.form.get('token'))).toEqual(['t1', 't2']);
  });

  it('frees the slot of a failed call', async () => {
    let calls = 0;
    const fetch = idp(() => (calls++ === 0 ? json({}, 500) : json({ active: true })));
    const introspect = introspector(fetch, { maxConcurrent: 1, maxQueued: 0 });
    await upstreamError(introspect(TOKEN));
    await expect(introspect(TOKEN)).resolves.toEqual({ active: true });
  });
});
