/** M2M caller configuration and the constant-time Basic check. */
import { describe, expect, it } from 'vitest';
import { createM2mAuthenticator, hashSecret, parseM2mClients } from '../src/m2m-clients.js';
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

  it('returns the client id for the right secret', () => {
    expect(check(basic('billing', 's3cret'))).toBe('billing');
    expect(check(`basic ${Buffer.from('billing:s3cret').toString('base64')}`)).toBe('billing');
  });

  it.each([
    ['no header', undefined],
    ['a wrong secret', basic('billing', 'S3cret')],
    ['an unknown id', basic('nobody', 's3cret')],
    ['another scheme', 'Bearer abc'],
    ['bad percent-encoding', basic('billing', '%E0%A4%A')],
  ])('returns undefined for %s', (_name, header) => {
    expect(check(header)).toBeUndefined();
  });
});
