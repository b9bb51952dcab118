import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options.js';
import { clearSessionCookie, readSessionId, sessionCookie } from '../src/session-cookie.js';

const ID = 'a'.repeat(43);

describe('session cookie', () => {
  it('is __Host- prefixed, Secure, HttpOnly, Path=/ behind https', () => {
    expect(sessionCookie(ID, 3_600_000, { secure: true, sameSite: 'strict' })).toBe(
      `__Host-zitauth_session=${ID}; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict; Secure`,
    );
  });

  it('drops the prefix and Secure over plain http (loopback development)', () => {
    expect(clearSessionCookie({ secure: false, sameSite: 'lax' })).toBe(
      'zitauth_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax',
    );
  });

  it('reads only a well-formed id under the expected name', () => {
    const secure = { secure: true, sameSite: 'none' } as const;
    expect(readSessionId(`x=1; __Host-zitauth_session=${ID}`, secure)).toBe(ID);
    expect(readSessionId(`zitauth_session=${ID}`, secure)).toBeUndefined();
    expect(readSessionId('__Host-zitauth_session=short', secure)).toBeUndefined();
  });
});

describe('browser options', () => {
  const base = {
    issuer: 'https://acme.zitadel.cloud',
    projectId: '1',
    publicUrl: 'http://127.0.0.1:8000',
    allowedOrigins: ['http://127.0.0.1:3001'],
  };

  it('defaults to session mode with an 8-hour, SameSite=Strict session', () => {
    expect(resolveOptions(base)).toMatchObject({
      browserMode: 'session',
      upstreams: {},
      session: { lifetimeMs: 28_800_000, refreshMarginMs: 60_000, sameSite: 'strict' },
    });
  });

  it.each([
    [{ upstreams: { v1: 'http://127.0.0.1:1' } }, /upstreams: "v1"/],
    [{ upstreams: { Quotes: 'http://127.0.0.1:1' } }, /upstreams: "Quotes"/],
    [{ upstreams: { quotes: 'ftp://x' } }, /upstreams: quotes: must be an http/],
    [{ upstreams: { quotes: 'not a url' } }, /not a URL/],
    [{ browserMode: 'cookie' as 'token' }, /browserMode/],
    [{ session: { sameSite: 'none' as const } }, /needs an https publicUrl/],
    [{ session: { lifetimeMs: 0 } }, /session.lifetimeMs/],
  ])('refuses %j at start-up', (extra, message) => {
    expect(() => resolveOptions({ ...base, ...extra })).toThrow(message);
  });
});
