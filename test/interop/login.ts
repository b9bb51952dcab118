/**
 * A user login against the provider, scripted over HTTP the way a browser would do it:
 * the authorization request (code flow with PKCE S256), the provider's interaction
 * routes with their cookies, the redirect back with a code, and the token request. No
 * redirect is followed automatically, so every hop is checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ADA, WEB } from './provider.js';

/** The token endpoint's answer to the code exchange. */
export interface LoginTokens {
  access_token: string;
  id_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** Cookies by name; paths and expiry do not matter for one short scripted login. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

async function hop(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('cookie', jar.header());
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(response);
  return response;
}

function location(response: Response, base: string): URL {
  const value = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || value === null) {
    throw new Error(`expected a redirect, got HTTP ${response.status}`);
  }
  return new URL(value, base);
}

/**
 * Logs Ada in and exchanges the code. With `resource`, the access token is issued for
 * that resource server (RFC 8707); without it, it is the provider's userinfo token.
 */
export async function login(
  issuer: string,
  { scope = 'openid profile email', resource }: { scope?: string; resource?: string } = {},
): Promise<LoginTokens> {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(`${issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: WEB.clientId,
    response_type: 'code',
    redirect_uri: WEB.redirectUri,
    scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(resource === undefined ? {} : { resource }),
  }).toString();

  const page = location(await hop(jar, authorize.href), issuer);
  const pending = await hop(jar, page.href);
  if (pending.status !== 200) throw new Error(`login page answered HTTP ${pending.status}`);
  const submitted = await hop(jar, `${page.href}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: ADA.login, password: ADA.password }).toString(),
  });
  const callback = location(await hop(jar, location(submitted, issuer).href), issuer);
  if (callback.origin + callback.pathname !== WEB.redirectUri) {
    throw new Error('the provider did not redirect back to the app');
  }
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
  const code = callback.searchParams.get('code');
  if (code === null) throw new Error(`no code: ${callback.searchParams.get('error') ?? ''}`);

  const credentials = Buffer.from(`${WEB.clientId}:${WEB.clientSecret}`).toString('base64');
  const token = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${credentials}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: WEB.redirectUri,
      code_verifier: verifier,
      ...(resource === undefined ? {} : { resource }),
    }).toString(),
  });
  const body = (await token.json()) as LoginTokens;
  if (token.status !== 200) throw new Error(`code exchange failed: ${JSON.stringify(body)}`);
  return body;
}
