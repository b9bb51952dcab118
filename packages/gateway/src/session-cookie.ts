/**
 * The session cookie of the backend-for-frontend mode. It carries only the session id and
 * is HttpOnly, so page script (and any script injected into the page) cannot read it.
 * Over https it is `Secure` and named with the `__Host-` prefix, which makes the browser
 * refuse it unless it is Secure, has `Path=/` and no `Domain`: no sibling subdomain can
 * set or shadow it. Plain http is only for loopback development, where the prefix cannot
 * be used. `SameSite=Strict` by default: the app and the gateway share a site in both
 * supported placements, so the cookie is never needed on a request another site starts.
 */
import { readCookie } from './cookies.js';

/** `SameSite` of the session cookie. */
export type SameSite = 'strict' | 'lax' | 'none';

/** How the session cookie is written. */
export interface SessionCookieConfig {
  readonly secure: boolean;
  readonly sameSite: SameSite;
}

const BASE_NAME = 'zitauth_session';

export function sessionCookieName(config: SessionCookieConfig): string {
  return config.secure ? `__Host-${BASE_NAME}` : BASE_NAME;
}

/** The session id the request carries, if any (a malformed value counts as none). */
export function readSessionId(
  cookieHeader: string | undefined,
  config: SessionCookieConfig,
): string | undefined {
  const value = readCookie(cookieHeader, sessionCookieName(config));
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

function attributes(config: SessionCookieConfig): string {
  const sameSite = config.sameSite[0]?.toUpperCase() + config.sameSite.slice(1);
  return `Path=/; HttpOnly; SameSite=${sameSite}${config.secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` for a new session, living as long as the session. */
export function sessionCookie(id: string, maxAgeMs: number, config: SessionCookieConfig): string {
  const maxAge = Math.max(1, Math.floor(maxAgeMs / 1000));
  return `${sessionCookieName(config)}=${id}; Max-Age=${maxAge}; ${attributes(config)}`;
}

/** `Set-Cookie` that removes the session cookie. */
export function clearSessionCookie(config: SessionCookieConfig): string {
  return `${sessionCookieName(config)}=; Max-Age=0; ${attributes(config)}`;
}
