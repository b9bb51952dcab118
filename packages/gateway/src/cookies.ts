/**
 * The gateway's cookies and the key behind them. A pending login travels in a sealed
 * cookie (see login-state.ts) named after its `state`, so logins started in parallel tabs
 * do not overwrite each other. The cookie is HttpOnly and `SameSite=Lax` (it must ride
 * along on the top-level redirect back from the IdP). Behind https it is `__Host-`
 * prefixed (Secure, `Path=/`, no `Domain`): no sibling subdomain can set or overwrite
 * it. Over plain http (local development) the prefix is not allowed, so the cookie is
 * scoped to the callback path instead.
 */
import { hkdfSync } from 'node:crypto';

/** Name of a pending login's cookie without the `__Host-` prefix and state tag. */
export const LOGIN_COOKIE = 'zitauth_login';

/** Characters of `state` in the cookie name: enough to tell parallel logins apart. */
const STATE_TAG_LENGTH = 12;

/** The value of cookie `name` in a `Cookie` header, if present once or more (first wins). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0 || part.slice(0, separator).trim() !== name) continue;
    return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** Where the gateway's cookies live and whether they are Secure. */
export interface CookieScope {
  secure: boolean;
  /** The callback path, used as `Path` when the cookie cannot be `__Host-`. */
  callbackPath: string;
}

/** The cookie name of the login with this `state`. */
export function loginCookieName(state: string, scope: CookieScope): string {
  const tag = state.slice(0, STATE_TAG_LENGTH).replace(/[^A-Za-z0-9_-]/g, '');
  return `${scope.secure ? '__Host-' : ''}${LOGIN_COOKIE}_${tag}`;
}

/** Attributes shared by setting and clearing a login cookie. */
function attributes(scope: CookieScope): string {
  return scope.secure
    ? 'Path=/; HttpOnly; SameSite=Lax; Secure'
    : `Path=${scope.callbackPath}; HttpOnly; SameSite=Lax`;
}

/** `Set-Cookie` for a pending login, living as long as the login may take. */
export function loginCookie(
  state: string,
  sealed: string,
  maxAgeMs: number,
  scope: CookieScope,
): string {
  const maxAge = Math.max(1, Math.floor(maxAgeMs / 1000));
  return `${loginCookieName(state, scope)}=${sealed}; Max-Age=${maxAge}; ${attributes(scope)}`;
}

/** `Set-Cookie` that removes a login's cookie once its callback came. */
export function clearLoginCookie(state: string, scope: CookieScope): string {
  return `${loginCookieName(state, scope)}=; Max-Age=0; ${attributes(scope)}`;
}

/** Bytes a cookie secret must have at least (it is a key, not a password). */
export const COOKIE_SECRET_BYTES = 32;

/** How to make a cookie secret, for error messages. */
export const COOKIE_SECRET_HINT = 'generate one with: openssl rand -base64 32';

/**
 * The cookie secret's bytes: base64 or base64url of at least 32 random bytes. Throws a
 * `TypeError` saying how to make one.
 */
export function parseCookieSecret(text: string): Uint8Array {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
    ? Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    : Buffer.alloc(0);
  if (bytes.length < COOKIE_SECRET_BYTES) {
    throw new TypeError(
      `must be base64 of at least ${COOKIE_SECRET_BYTES} random bytes; ${COOKIE_SECRET_HINT}`,
    );
  }
  return new Uint8Array(bytes);
}

/**
 * A 32-byte key for one purpose, derived from the cookie secret (HKDF-SHA-256), so one
 * secret can serve several cookies without any two sharing a key.
 */
export function deriveKey(secret: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'zitauth-gateway', purpose, 32));
}
