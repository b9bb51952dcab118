/**
 * The backend-for-frontend mode over HTTP against the local IdP and a real upstream API:
 * the session cookie a login sets, `/session`, the proxy attaching (and refreshing) the
 * access token, CSRF on state-changing requests, credentialed CORS, and logout.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore, type GatewayOptions, type GatewayStore } from '@zitauth/gateway';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { APP_ORIGIN, login, startStack, type Stack } from './helpers.js';

/** What the upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real upstream API: records each request and answers JSON (and a cookie it must not pass). */
async function startUpstream(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.setHeader('set-cookie', 'upstream=1; Path=/');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

/** A memory store that also remembers every value written, to look for secrets in it. */
function recordingStore(): { store: GatewayStore; written: string[] } {
  const store = createMemoryStore();
  const written: string[] = [];
  return {
    written,
    store: {
      ...store,
      set: (key, value, ttlMs) => {
        written.push(key, JSON.stringify(value));
        return store.set(key, value, ttlMs);
      },
    },
  };
}

const CSRF = { 'x-zitauth-csrf': '1' };

let idp: TestIdp;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  idp = await startTestIdp();
  upstream = await startUpstream();
});
afterAll(async () => {
  await idp.close();
  upstream.server.close();
});

async function sessionStack(overrides: Partial<GatewayOptions> = {}, on: TestIdp = idp) {
  return startStack(
    { browserMode: 'session', upstreams: { quotes: upstream.url }, ...overrides },
    on,
  );
}

/** Logs in; resolves the `name=value` of the session cookie and the callback answer. */
async function signIn(stack: Stack) {
  const { response } = await login(stack, `?return_to=${encodeURIComponent(`${APP_ORIGIN}/app/`)}`);
  const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const session = cookies.find((c) => c.startsWith('zitauth_session='));
  return { response, cookies, session: (session ?? '').split(';', 1)[0] ?? '' };
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  const api = idp.createApiApp({ auth: 'basic' });
  const res = await fetch(`${idp.issuer}/oauth/v2/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(api.clientId)}:${api.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const bearerOf = (seen: Seen | undefined): string =>
  String(seen?.headers.authorization ?? '').replace(/^Bearer /, '');

describe('session mode login', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await sessionStack();
  });
  afterAll(() => stack.close());

  it('asks the IdP for offline_access, for a refresh token', async () => {
    const response = await stack.gateway.inject({ url: '/api/v1/login' });
    const scope = new URL(String(response.headers.location)).searchParams.get('scope') ?? '';
    expect(scope.split(' ')).toContain('offline_access');
    expect(scope.split(' ')).toContain('urn:zitadel:iam:user:resourceowner');
  });

  it('ends the login with an HttpOnly session cookie and a redirect without any token', async () => {
    const { response, session, cookies } = await signIn(stack);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`${APP_ORIGIN}/app/`);
    expect(cookies).toContainEqual(
      expect.stringMatching(
        /^zitauth_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/,
      ),
    );
    expect(session).toMatch(/^zitauth_session=/);
  });

  it('answers /session with the user, the roles with their organisation, and no token', async () => {
    const { session } = await signIn(stack);
    const response = await stack.gateway.inject({
      url: '/api/v1/session',
      headers: { cookie: session },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      subject: stack.user.id,
      name: 'Ada Lovelace',
      email: stack.user.email,
      orgId: idp.defaultOrg.id,
      roles: [
        { role: 'editor', orgId: idp.defaultOrg.id, orgDomain: idp.defaultOrg.primaryDomain },
      ],
    });
    expect(Date.parse(String(body['expiresAt']))).toBeGreaterThan(Date.now());
    expect(response.body).not.toMatch(/eyJ/);
  });

  it.each([
    ['no cookie', undefined],
    ['an unknown session id', `zitauth_session=${'A'.repeat(43)}`],
    ['a malformed cookie', 'zitauth_session=../../x'],
  ])('answers /session 401 login_required for %s', async (_name, cookie) => {
    const response = await stack.gateway.inject({
      url: '/api/v1/session',
      headers: cookie === undefined ? {} : { cookie },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: 'login_required',
      error_description: 'Not signed in',
    });
  });
});

describe('the API proxy', () => {
  let stack: Stack;
  let session: string;
  beforeAll(async () => {
    stack = await sessionStack();
    ({ session } = await signIn(stack));
  });
  afterAll(() => stack.close());

  it('forwards to the upstream with the access token, not the browser cookie', async () => {
    const response = await stack.gateway.inject({
      url: '/api/quotes/quotes/today?lang=en',
      headers: { cookie: `${session}; other=1`, authorization: 'Bearer forged' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, path: '/quotes/today?lang=en' });
    expect(response.headers['set-cookie']).toBeUndefined();
    const seen = upstream.seen.at(-1);
    expect(seen?.headers.cookie).toBeUndefined();
    expect(await introspect(bearerOf(seen))).toMatchObject({ active: true, sub: stack.user.id });
  });

  it('answers 401 without a session and 404 for an unknown upstream', async () => {
    expect((await stack.gateway.inject({ url: '/api/quotes/x' })).statusCode).toBe(401);
    const unknown = await stack.gateway.inject({
      url: '/api/other/x',
      headers: { cookie: session },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it.each(['/api/quotes/..%2f..%2fetc', '/api/quotes/%2e%2e/x', '/api/quotes/a%2fb'])(
    'refuses the path %s without calling the upstream',
    async (url) => {
      const before = upstream.seen.length;
      const response = await stack.gateway.inject({ url, headers: { cookie: session } });
      expect([400, 404]).toContain(response.statusCode);
      expect(upstream.seen.length).toBe(before);
    },
  );

  it('refuses a state-changing request without the CSRF header with 403', async () => {
    const before = upstream.seen.length;
    const response = await stack.gateway.inject({
      method: 'POST',
      url: '/api/quotes/quotes',
      headers: { cookie: session, 'content-type': 'application/json' },
      payload: '{"text":"x"}',
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ error: 'csrf_rejected' });
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses the CSRF header from a foreign origin with 403', async () => {
    const response = await stack.gateway.inject({
      method: 'DELETE',
      url: '/api/quotes/quotes/1',
      headers: { cookie: session, origin: 'https://evil.test', ...CSRF },
    });
    expect(response.statusCode).toBe(403);
  });

  it('forwards a state-changing request with the CSRF header, body as sent', async () => {
    const response = await stack.gateway.inject({
      method: 'POST',
      url: '/api/quotes/quotes',
      headers: {
        cookie: session,
        origin: APP_ORIGIN,
        'content-type': 'application/json',
        ...CSRF,
      },
      payload: '{"text":"x"}',
    });
    expect(response.statusCode).toBe(200);
    const seen = upstream.seen.at(-1);
    expect(seen).toMatchObject({ method: 'POST', url: '/quotes', body: '{"text":"x"}' });
    expect(seen?.headers['x-zitauth-csrf']).toBeUndefined();
    expect(seen?.headers['content-type']).toBe('application/json');
  });

  it('answers credentialed CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      stack.gateway.inject({
        method: 'OPTIONS',
        url: '/api/quotes/quotes',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-zitauth-csrf',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/X-Zitauth-CSRF/);
    const foreign = await preflight('https://evil.test');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers['access-control-allow-credentials']).toBeUndefined();
    const session = await stack.gateway.inject({
      url: '/api/v1/session',
      headers: { origin: APP_ORIGIN },
    });
    expect(session.headers['access-control-allow-credentials']).toBe('true');
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const dead = await sessionStack({ upstreams: { quotes: 'http://127.0.0.1:9' } });
    try {
      const { session: cookie } = await signIn(dead);
      const response = await dead.gateway.inject({
        url: '/api/quotes/x',
        headers: { cookie },
      });
      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({ error: 'bad_gateway' });
    } finally {
      await dead.close();
    }
  });
});

describe('refresh', () => {
  // Access tokens live 30 s and the margin is 60 s: every request refreshes first.
  let shortIdp: TestIdp;
  beforeAll(async () => {
    shortIdp = await startTestIdp({ accessTokenLifetimeSeconds: 30 });
  });
  afterAll(() => shortIdp.close());

  it('refreshes the access token before it expires, with the rotated refresh token', async () => {
    const stack = await sessionStack({}, shortIdp);
    try {
      const { session } = await signIn(stack);
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const calls = shortIdp.calls('token');
        const response = await stack.gateway.inject({
          url: '/api/quotes/q',
          headers: { cookie: session },
        });
        expect(response.statusCode).toBe(200);
        expect(shortIdp.calls('token')).toBe(calls + 1);
        tokens.push(bearerOf(upstream.seen.at(-1)));
      }
      expect(new Set(tokens).size).toBe(3);
    } finally {
      await stack.close();
    }
  });

  it('refreshes once for concurrent requests of one session', async () => {
    const stack = await sessionStack({}, shortIdp);
    try {
      const { session } = await signIn(stack);
      const calls = shortIdp.calls('token');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          stack.gateway.inject({ url: '/api/quotes/q', headers: { cookie: session } }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(shortIdp.calls('token')).toBe(calls + 1);
    } finally {
      await stack.close();
    }
  });

  it('refreshes once across two replicas sharing a store (the refresh token rotates)', async () => {
    const store = createMemoryStore();
    const one = await sessionStack({ store }, shortIdp);
    const two = await sessionStack({ store, login: { clientId: one.clientId } }, shortIdp);
    try {
      const { session } = await signIn(one);
      const calls = shortIdp.calls('token');
      const answers = await Promise.all(
        [one, two, one, two].map((replica) =>
          replica.gateway.inject({ url: '/api/quotes/q', headers: { cookie: session } }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
      expect(shortIdp.calls('token')).toBe(calls + 1);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('ends the session when the IdP refuses the refresh token', async () => {
    const stack = await sessionStack({}, shortIdp);
    try {
      const { session } = await signIn(stack);
      shortIdp.faults.set('token', {
        status: 400,
        body: '{"error":"invalid_grant","error_description":"refresh token is invalid"}',
        times: 1,
      });
      const first = await stack.gateway.inject({
        url: '/api/v1/session',
        headers: { cookie: session },
      });
      expect(first.statusCode).toBe(401);
      const again = await stack.gateway.inject({
        url: '/api/quotes/q',
        headers: { cookie: session },
      });
      expect(again.statusCode).toBe(401);
    } finally {
      shortIdp.faults.clear();
      await stack.close();
    }
  });

  it('keeps serving the still valid access token while the IdP is down', async () => {
    const stack = await sessionStack({}, shortIdp);
    try {
      const { session } = await signIn(stack);
      shortIdp.faults.set('token', { status: 503 });
      const response = await stack.gateway.inject({
        url: '/api/quotes/q',
        headers: { cookie: session },
      });
      expect(response.statusCode).toBe(200);
      expect(stack.logs.join('\n')).toContain('a session could not be refreshed');
      expect(stack.logs.join('\n')).not.toContain(bearerOf(upstream.seen.at(-1)));
    } finally {
      shortIdp.faults.clear();
      await stack.close();
    }
  });
});

describe('logout', () => {
  it('needs the CSRF header, then ends the session, revokes its tokens and clears the cookie', async () => {
    const { store, written } = recordingStore();
    const stack = await sessionStack({ store });
    try {
      const { session } = await signIn(stack);
      await stack.gateway.inject({ url: '/api/quotes/q', headers: { cookie: session } });
      const accessToken = bearerOf(upstream.seen.at(-1));
      // The store holds neither a token nor the cookie's session id.
      const sessionId = session.split('=')[1] ?? '';
      for (const value of written) {
        expect(value).not.toContain(accessToken);
        expect(value).not.toContain(sessionId);
      }
      const forged = await stack.gateway.inject({
        method: 'POST',
        url: '/api/v1/logout',
        headers: { cookie: session },
      });
      expect(forged.statusCode).toBe(403);
      const revocations = idp.calls('revoke');
      const response = await stack.gateway.inject({
        method: 'POST',
        url: '/api/v1/logout',
        headers: { cookie: session, ...CSRF },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['set-cookie']).toBe(
        'zitauth_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict',
      );
      const body = response.json<{ endSessionUrl: string }>();
      const end = new URL(body.endSessionUrl);
      expect(`${end.origin}${end.pathname}`).toBe(`${idp.issuer}/oidc/v1/end_session`);
      expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${APP_ORIGIN}/`);
      expect(end.searchParams.has('id_token_hint')).toBe(false);
      expect(idp.calls('revoke')).toBe(revocations + 2);
      expect(await introspect(accessToken)).toEqual({ active: false });
      const after = await stack.gateway.inject({
        url: '/api/v1/session',
        headers: { cookie: session },
      });
      expect(after.statusCode).toBe(401);
    } finally {
      await stack.close();
    }
  });
});
