/**
 * The one cookie the gateway sets: a random value tying a login's `state` to the browser
 * that started it. Without it, an attacker could start a login, stop at the callback URL
 * and make a victim's browser open it, logging the victim into the attacker's account
 * (login CSRF, RFC 6749 §10.12). The cookie is HttpOnly, scoped to the callback path,
 * `SameSite=Lax` (sent on the top-level redirect back from the IdP) and short-lived.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const BINDING_COOKIE = 'zitauth_login';

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

/** A fresh binding value and the digest the gateway keeps of it. */
export function createBinding(): { value: string; hash: string } {
  const value = randomBytes(32).toString('base64url');
  return { value, hash: hashBinding(value) };
}

export function hashBinding(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** True when `value` (from the cookie) is the one whose digest was kept. */
export function bindingMatches(value: string | undefined, hash: string): boolean {
  if (value === undefined) return false;
  const actual = Buffer.from(hashBinding(value));
  const expected = Buffer.from(hash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Attributes shared by setting and clearing the cookie. */
function attributes(path: string, secure: boolean): string {
  return `Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` for a new binding, living as long as a pending login. */
export function bindingCookie(
  value: string,
  path: string,
  maxAgeMs: number,
  secure: boolean,
): string {
  const maxAge = Math.max(1, Math.floor(maxAgeMs / 1000));
  return `${BINDING_COOKIE}=${value}; Max-Age=${maxAge}; ${attributes(path, secure)}`;
}

/** `Set-Cookie` that removes the binding once the callback used it. */
export function clearBindingCookie(path: string, secure: boolean): string {
  return `${BINDING_COOKIE}=; Max-Age=0; ${attributes(path, secure)}`;
}
