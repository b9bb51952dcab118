/** The login binding cookie: reading, matching and the attributes it is set with. */
import { describe, expect, it } from 'vitest';
import {
  bindingCookie,
  bindingMatches,
  clearBindingCookie,
  createBinding,
  readCookie,
} from '../src/cookies.js';

describe('cookies', () => {
  it('reads a cookie among others', () => {
    expect(readCookie('a=1; zitauth_login=xyz; b=2', 'zitauth_login')).toBe('xyz');
    expect(readCookie('a=1', 'zitauth_login')).toBeUndefined();
    expect(readCookie(undefined, 'zitauth_login')).toBeUndefined();
    expect(readCookie('zitauth_login_x=1; junk', 'zitauth_login')).toBeUndefined();
  });

  it('matches a binding only with its own value', () => {
    const binding = createBinding();
    expect(bindingMatches(binding.value, binding.hash)).toBe(true);
    expect(bindingMatches(createBinding().value, binding.hash)).toBe(false);
    expect(bindingMatches(undefined, binding.hash)).toBe(false);
    expect(bindingMatches('', binding.hash)).toBe(false);
  });

  it('sets Secure only for an https gateway', () => {
    expect(bindingCookie('v', '/cb', 600_000, true)).toBe(
      'zitauth_login=v; Max-Age=600; Path=/cb; HttpOnly; SameSite=Lax; Secure',
    );
    expect(clearBindingCookie('/cb', false)).toBe(
      'zitauth_login=; Max-Age=0; Path=/cb; HttpOnly; SameSite=Lax',
    );
  });
});
