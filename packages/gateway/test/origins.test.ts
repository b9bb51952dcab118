/** The origin allowlist: exact origins, and return pages on them only. */
import { describe, expect, it } from 'vitest';
import { parseOrigin, resolveReturnTo } from '../src/origins.js';

describe('parseOrigin', () => {
  it('normalizes an origin', () => {
    expect(parseOrigin('HTTPS://App.Example.com:443')).toBe('https://app.example.com');
    expect(parseOrigin('http://127.0.0.1:3001/')).toBe('http://127.0.0.1:3001');
  });

  it.each([
    'app.example.com',
    'https://app.example.com/path',
    'ftp://x.test',
    'https://u:p@x.test',
  ])('refuses %s', (value) => {
    expect(() => parseOrigin(value)).toThrow(TypeError);
  });
});

describe('resolveReturnTo', () => {
  const allowed = ['https://app.example.com', 'http://localhost:3001'];

  it('defaults to the first origin', () => {
    expect(resolveReturnTo(undefined, allowed)).toBe('https://app.example.com/');
    expect(resolveReturnTo('', allowed)).toBe('https://app.example.com/');
    expect(resolveReturnTo(undefined, [])).toBeUndefined();
  });

  it('accepts pages of allowed origins, without their fragment', () => {
    expect(resolveReturnTo('http://localhost:3001/app?x=1#frag', allowed)).toBe(
      'http://localhost:3001/app?x=1',
    );
  });

  it.each([
    'https://app.example.com.evil.test/',
    'https://evil.test/?https://app.example.com',
    'https://app.example.com:8443/',
    '//evil.test/',
    'not a url',
    'https://user@app.example.com/',
  ])('refuses %s', (value) => {
    expect(resolveReturnTo(value, allowed)).toBeUndefined();
  });
});
