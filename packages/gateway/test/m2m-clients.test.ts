/** M2M caller configuration and the constant-time Basic check. */
import { describe, expect, it } from 'vitest';
import {
  createM2mAuthenticator,
  hashSecret,
  isStrongSecret,
  parseM2mClients,
} from '../src/m2m-clients.js';
import { basic } from './helpers.js';

const HASH = hashSecret('s3cret');

describe('parseM2mClients', () => {
  it('reads id:sha256hex pairs separated by commas', () => {
    expect(parseM2mClients(` billing:${HASH}, reports:${HASH.toUpperCase()} `)).toEqual([
      { id: 'billing', secretSha256: HASH },
      { id: 'reports', secretSha256: HASH },
    ]);
  });

  it.each([
    ['a missing hash', 'billing', /id:sha256hex/],
    ['a short hash', 'billing:abcd', /64 hex digits/],
    ['an empty id', `:${HASH}`, /id:sha256hex/],
    ['a duplicate id', `a:${HASH},a:${HASH}`, /listed twice/],
    [
      'the hash of "changeme"',
      `billing:${hashSecret('changeme')}`,
      /"billing" is a well-known weak/,
    ],
    [
      'the hash of the id itself',
      `billing:${hashSecret('billing')}`,
      /"billing" is a well-known weak/,
    ],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseM2mClients(value)).toThrow(message);
  });

  it('never echoes a hash in its errors', () => {
    const wrong = `${HASH.slice(0, 63)}z`;
    expect(() => parseM2mClients(`billing:${wrong}`)).toThrow(/^(?!.*[0-9a-f]{40})/);
  });
});

describe('createM2mAuthenticator', () => {
  const check = createM2mAuthenticator([{ id: 'billing', secretSha256: HASH }]);

  it('accepts the right secret, saying whether it is weak', () => {
    expect(check(basic('billing', 's3cret'))).toEqual({
      kind: 'accepted',
      id: 'billing',
      weak: true,
    });
    expect(check(`basic ${Buffer.from('billing:s3cret').toString('base64')}`)).toMatchObject({
      kind: 'accepted',
    });
    const strong = 'Zq3v8XwT1pL0sK9mN2bR7cY4';
    const checkStrong = createM2mAuthenticator([{ id: 'b', secretSha256: hashSecret(strong) }]);
    expect(checkStrong(basic('b', strong))).toEqual({ kind: 'accepted', id: 'b', weak: false });
  });

  it('names a configured client that sent a wrong secret (for its lockout)', () => {
    expect(check(basic('billing', 'S3cret'))).toEqual({ kind: 'refused', id: 'billing' });
  });

  it.each([
    ['no header', undefined],
    ['an unknown id', basic('nobody', 's3cret')],
    ['another scheme', 'Bearer abc'],
    ['bad percent-encoding', basic('billing', '%E0%A4%A')],
  ])('refuses %s without naming a client', (_name, header) => {
    expect(check(header)).toEqual({ kind: 'refused' });
  });
});

describe('isStrongSecret', () => {
  it.each([
    ['32 random base64 characters', 'k9Xw2Lp0Qz7RtY4vBn8Mc1Hd5Jf3Gs6A', true],
    ['a passphrase of four words', 'correct horse battery staple', true],
    ['a short password', 'Tr0ub4dor&3', false],
    ['24 lowercase letters', 'abcdefghijklmnopqrstuvwx', false],
    ['long but repetitive', 'abababababababababababababababab', false],
  ])('judges %s', (_name, secret, strong) => {
    expect(isStrongSecret(secret)).toBe(strong);
  });
});
