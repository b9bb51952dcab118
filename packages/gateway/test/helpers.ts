/**
 * A gateway wired to a real local IdP (@zitauth/testing) for route tests, and the
 * browser's part of a login done with fetch: open the IdP's authorize URL, post the
 * login form, and hand back the callback URL with the binding cookie. Requests reach
 * the gateway through `inject()`, so its public URL is a name nothing listens on.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createGateway, hashSecret, type GatewayOptions } from '@zitauth/gateway';
import { startTestIdp, type TestIdp, type User } from '@zitauth/testing';

export const PUBLIC_URL = 'http://gateway.test';
export const APP_ORIGIN = 'http://app.test';
export const M2M_ID = 'billing';
export const M2M_SECRET = 'correct horse battery staple';

/** A running IdP, a gateway trusting it, a user and the captured log lines. */
export interface Stack {
  idp: TestIdp;
  gateway: FastifyInstance;
  user: User;
  clientId: string;
  logs: string[];
  close(): Promise<void>;
}

let stacks = 0;

/** Starts the IdP, registers apps and users, and builds the gateway (overrides last). */
export async function startStack(
  overrides: Partial<GatewayOptions> = {},
  idpGiven?: TestIdp,
): Promise<Stack> {
  const idp = idpGiven ?? (await startTestIdp());
  const web = idp.createWebApp({
    redirectUris: [`${PUBLIC_URL}/api/v1/callback`],
    postLogoutRedirectUris: [`${APP_ORIGIN}/`],
  });
  const api = idp.createApiApp({ auth: 'basic' });
  // Names are unique per IdP; stacks sharing one IdP get numbered ones.
  const suffix = idpGiven === undefined ? '' : `-${(stacks += 1)}`;
  const service = idp.createServiceUser({
    userName: `gateway-service${suffix}`,
    roles: ['editor'],
  });
  const user = idp.createUser({
    userName: `ada${suffix}`,
    givenName: 'Ada',
    familyName: 'Lovelace',
    roles: ['editor'],
  });
  const logs: string[] = [];
  const gateway = await createGateway({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: PUBLIC_URL,
    allowedOrigins: [APP_ORIGIN],
    returnTo: [`${APP_ORIGIN}/`, `${APP_ORIGIN}/app/*`],
    login: { clientId: web.clientId },
    introspection: { clientId: api.clientId, clientSecret: api.clientSecret },
    m2m: {
      keyFile: service.keyFile,
      clients: [{ id: M2M_ID, secretSha256: hashSecret(M2M_SECRET) }],
    },
    logger: { level: 'debug', stream: { write: (line) => void logs.push(line) } },
    readinessCacheMs: 0,
    // Every inject() comes from 127.0.0.1: the limits get their own tests.
    rateLimit: { login: 10_000, token: 10_000 },
    ...overrides,
  });
  return {
    idp,
    gateway,
    user,
    clientId: web.clientId,
    logs,
    close: async () => {
      await gateway.close();
      if (idpGiven === undefined) await idp.close();
    },
  };
}

/** `Authorization: Basic` for an id and secret. */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** The `name=value` part of a pending login's sealed cookie (a JWE). */
export function loginCookieOf(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  expect(header).toMatch(/^(__Host-)?zitauth_login_[A-Za-z0-9_-]{12}=[A-Za-z0-9_.-]+;/);
  return (header ?? '').split(';', 1)[0] ?? '';
}

/** A started login: the IdP's authorize URL and the cookie the browser got. */
export interface StartedLogin {
  authorizeUrl: URL;
  cookie: string;
}

export async function startLogin(gateway: FastifyInstance, query = ''): Promise<StartedLogin> {
  const response = await gateway.inject({ method: 'GET', url: `/api/v1/login${query}` });
  expect(response.statusCode).toBe(302);
  return {
    authorizeUrl: new URL(String(response.headers.location)),
    cookie: loginCookieOf(response.headers['set-cookie']),
  };
}

/** Logs in on the IdP's page; resolves the redirect back to the gateway (path and query). */
export async function submitLogin(
  authorizeUrl: URL,
  user: Pick<User, 'userName' | 'password'>,
): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  const requestId = /name="request" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(requestId).toBeDefined();
  const posted = await fetch(new URL(action ?? '', authorizeUrl), {
    method: 'POST',
    body: new URLSearchParams({
      request: requestId ?? '',
      username: user.userName,
      password: user.password,
    }),
    redirect: 'manual',
  });
  expect(posted.status).toBe(302);
  const back = new URL(String(posted.headers.get('location')));
  expect(back.origin).toBe(PUBLIC_URL);
  return `${back.pathname}${back.search}`;
}

/** The whole browser round trip up to the gateway's callback answer. */
export async function login(stack: Stack, query = '') {
  const started = await startLogin(stack.gateway, query);
  const callback = await submitLogin(started.authorizeUrl, stack.user);
  const response = await stack.gateway.inject({
    method: 'GET',
    url: callback,
    headers: { cookie: started.cookie },
  });
  return { started, callback, response };
}

/** The page secret of token-mode logins in these tests, and the hash `/login` gets. */
export const PAGE_SECRET = 'the-page-secret-of-these-tests-0123456789';
export const PAGE_HASH = createHash('sha256').update(PAGE_SECRET).digest('base64url');

/** Token mode: logs in with the page secret and redeems the hand-off code for the access token. */
export async function tokenLogin(stack: Stack): Promise<string> {
  const { response } = await login(stack, `?handoff=${PAGE_HASH}`);
  const code = fragmentOf(String(response.headers.location)).get('code') ?? '';
  const redeemed = await stack.gateway.inject({
    method: 'POST',
    url: '/api/v1/handoff',
    payload: { code, secret: PAGE_SECRET },
  });
  expect(redeemed.statusCode).toBe(200);
  return redeemed.json<{ access_token: string }>().access_token;
}

/** The `name=value` of the session cookie a callback set, or '' without one. */
export function sessionCookieOf(setCookie: string | string[] | undefined): string {
  const found = ([] as string[]).concat(setCookie ?? []).find((c) => /^zitauth_session=/.test(c));
  return (found ?? '').split(';', 1)[0] ?? '';
}

/** The parameters of the fragment in a callback's redirect. */
export function fragmentOf(location: string | undefined): URLSearchParams {
  const url = new URL(String(location));
  return new URLSearchParams(url.hash.slice(1));
}

/**
 * Rate-limit windows are aligned to the clock; tests that count up to a limit use a window
 * of about 30 years, so no window boundary falls between their requests.
 */
export const LONG_WINDOW_MS = 1e12;
