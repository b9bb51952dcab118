/** The gateway's cookies: reading, login cookie names and attributes, the cookie secret. */
import { describe, expect, it } from 'vitest';
import {
  clearLoginCookie,
  deriveKey,
  loginCookie,
  loginCookieName,
  parseCookieSecret,
  readCookie,
} from '../src/cookies.js';

const http = { secure: false, callbackPath: '/api/v1/callback' };
const https = { secure: true, callbackPath: '/api/v1/callback' };

describe('cookies', () => {
  it('reads a cookie among others', () => {
    expect(readCookie('a=1; zitauth_login=xyz; b=2', 'zitauth_login')).toBe('xyz');
    expect(readCookie('a=1', 'zitauth_login')).toBeUndefined();
    expect(readCookie(undefined, 'zitauth_login')).toBeUndefined();
    expect(readCookie('zitauth_login_x=1; junk', 'zitauth_login')).toBeUndefined();
  });

  it('names a login cookie after the start of its state, __Host- behind https', () => {
    expect(loginCookieName('abcdefghijkl-rest-of-state', http)).toBe('zitauth_login_abcdefghijkl');
    expect(loginCookieName('abcdefghijkl-rest-of-state', https)).toBe(
      '__Host-zitauth_login_abcdefghijkl',
    );
    expect(loginCookieName('a;b=c d', http)).toBe('zitauth_login_abcd');
  });

  it('scopes a login cookie to the callback over http and to / with Secure behind https', () => {
    expect(loginCookie('s1', 'v', 600_000, http)).toBe(
      'zitauth_login_s1=v; Max-Age=600; Path=/api/v1/callback; HttpOnly; SameSite=Lax',
    );
    expect(clearLoginCookie('s1', https)).toBe(
      '__Host-zitauth_login_s1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it('accepts a cookie secret of 32 bytes or more in base64 or base64url', () => {
    const bytes = Buffer.alloc(32, 0xfb);
    expect(parseCookieSecret(bytes.toString('base64'))).toEqual(new Uint8Array(bytes));
    expect(parseCookieSecret(` ${bytes.toString('base64url')}\n`)).toEqual(new Uint8Array(bytes));
  });

  it.each([
    ['too short', Buffer.alloc(31).toString('base64')],
    ['not base64', 'correct horse battery staple, but longer than 32 bytes'],
    ['empty', ''],
  ])('refuses a cookie secret that is %s, saying how to make one', (_name, text) => {
    expect(() => parseCookieSecret(text)).toThrow(/openssl rand -base64 32/);
  });

  it('derives a different key per purpose', () => {
    const secret = new Uint8Array(32).fill(7);
    const login = deriveKey(secret, 'login-state');
    expect(login).toHaveLength(32);
    expect(login).toEqual(deriveKey(secret, 'login-state'));
    expect(login).not.toEqual(deriveKey(secret, 'session'));
  });
});
