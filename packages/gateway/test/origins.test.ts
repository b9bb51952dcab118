/** The origin allowlist, and the return-page allowlist of exact pages and path prefixes. */
import { describe, expect, it } from 'vitest';
import {
  defaultReturnRules,
  parseOrigin,
  parseReturnRule,
  resolveReturnTo,
} from '../src/origins.js';

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

describe('parseReturnRule', () => {
  const origins = ['https://app.example.com'];

  it('reads exact pages and path prefixes', () => {
    expect(parseReturnRule('https://app.example.com/done?x=1', origins)).toEqual({
      origin: 'https://app.example.com',
      path: '/done?x=1',
      prefix: false,
    });
    expect(parseReturnRule('https://App.example.com/app/*', origins)).toEqual({
      origin: 'https://app.example.com',
      path: '/app/',
      prefix: true,
    });
  });

  it.each([
    ['another origin', 'https://evil.test/', /not on an allowed origin/],
    ['a prefix not ending in /', 'https://app.example.com/app*', /must end with/],
    ['a prefix with a query', 'https://app.example.com/app/?x=*', /must end with/],
    ['a fragment', 'https://app.example.com/#x', /fragment/],
    ['credentials', 'https://u:p@app.example.com/', /credentials/],
    ['no URL', 'app', /is not a page/],
  ])('refuses %s', (_name, entry, message) => {
    expect(() => parseReturnRule(entry, origins)).toThrow(message);
  });
});

describe('resolveReturnTo', () => {
  const rules = [
    parseReturnRule('https://app.example.com/', ['https://app.example.com']),
    parseReturnRule('http://localhost:3001/app/*', ['http://localhost:3001']),
  ];

  it('defaults to the first entry', () => {
    expect(resolveReturnTo(undefined, rules)).toBe('https://app.example.com/');
    expect(resolveReturnTo('', rules)).toBe('https://app.example.com/');
    expect(resolveReturnTo(undefined, [])).toBeUndefined();
  });

  it('accepts an exact page and pages under a prefix, without their fragment', () => {
    expect(resolveReturnTo('https://app.example.com/#x', rules)).toBe('https://app.example.com/');
    expect(resolveReturnTo('http://localhost:3001/app/list?x=1#frag', rules)).toBe(
      'http://localhost:3001/app/list?x=1',
    );
  });

  it.each([
    ['another page of an allowed origin', 'https://app.example.com/redirect?to=https://evil.test'],
    ['the exact page with a query', 'https://app.example.com/?next=//evil.test'],
    ['a page beside the prefix', 'http://localhost:3001/application'],
    ['a dot-segment out of the prefix', 'http://localhost:3001/app/../redirect'],
    ['an encoded slash', 'http://localhost:3001/app/%2F..%2Fredirect'],
    ['an encoded backslash', 'http://localhost:3001/app/..%5Credirect'],
    ['a look-alike origin', 'https://app.example.com.evil.test/'],
    ['another port', 'https://app.example.com:8443/'],
    ['a scheme-relative URL', '//evil.test/'],
    ['no URL', 'not a url'],
    ['credentials', 'https://user@app.example.com/'],
  ])('refuses %s', (_name, value) => {
    expect(resolveReturnTo(value, rules)).toBeUndefined();
  });

  it('allows only the root page of each origin by default', () => {
    const defaults = defaultReturnRules(['https://app.example.com']);
    expect(resolveReturnTo('https://app.example.com/', defaults)).toBe('https://app.example.com/');
    expect(resolveReturnTo('https://app.example.com/app', defaults)).toBeUndefined();
  });
});
