import { describe, expect, it } from 'vitest';
import { extractToken, type ExtractOptions } from '../src/extract.js';

const options: ExtractOptions = { transport: {}, maxTokenBytes: 64, errors: {} };
const both: ExtractOptions = { ...options, transport: { query: true, body: true } };

describe('extractToken', () => {
  it('reads a bearer token with any scheme case and extra spaces', () => {
    expect(extractToken({ authorization: 'Bearer abc.def-ghi_~+/=' }, options)).toBe(
      'abc.def-ghi_~+/=',
    );
    expect(extractToken({ authorization: ['bearer   abc'] }, options)).toBe('abc');
    expect(extractToken({ authorization: 'BEARER abc ' }, options)).toBe('abc');
  });

  it('answers undefined when no bearer credential was sent', () => {
    expect(extractToken({}, options)).toBeUndefined();
    expect(extractToken({ authorization: [] }, options)).toBeUndefined();
    expect(extractToken({ authorization: 'Basic dXNlcjpwYXNz' }, options)).toBeUndefined();
    expect(extractToken({ authorization: 'Bearerabc' }, options)).toBeUndefined();
  });

  it('refuses an empty or malformed bearer credential with invalid_request', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a"b', 'Bearer\tabc']) {
      expect(() => extractToken({ authorization }, options)).toThrow(
        expect.objectContaining({ status: 400, code: 'ERR_ZITAUTH_INVALID_REQUEST' }),
      );
    }
  });

  it('refuses two Authorization headers', () => {
    expect(() => extractToken({ authorization: ['Bearer a', 'Bearer b'] }, options)).toThrow(
      expect.objectContaining({ status: 400, code: 'ERR_ZITAUTH_MULTIPLE_TOKENS' }),
    );
    expect(() => extractToken({ authorization: ['Basic x', 'Bearer b'] }, options)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it('ignores query and body tokens unless enabled', () => {
    expect(extractToken({ query: 'q', body: 'b' }, options)).toBeUndefined();
    expect(extractToken({ query: 'q' }, both)).toBe('q');
    expect(extractToken({ body: ['b'] }, both)).toBe('b');
  });

  it('refuses a header token together with a query or body token', () => {
    expect(() => extractToken({ authorization: 'Bearer a', query: 'q' }, both)).toThrow(
      expect.objectContaining({ status: 400, code: 'ERR_ZITAUTH_MULTIPLE_TOKENS' }),
    );
    expect(() => extractToken({ query: ['a', 'b'] }, both)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it('refuses an empty query token', () => {
    expect(() => extractToken({ query: '' }, both)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it('refuses a token over the size cap before decoding it', () => {
    expect(() => extractToken({ authorization: `Bearer ${'a'.repeat(65)}` }, options)).toThrow(
      expect.objectContaining({ status: 401, code: 'ERR_ZITAUTH_TOKEN_TOO_LARGE' }),
    );
    expect(extractToken({ authorization: `Bearer ${'a'.repeat(64)}` }, options)).toHaveLength(64);
  });

  it('uses the configured realm in its errors', () => {
    expect(() =>
      extractToken({ authorization: 'Bearer' }, { ...options, errors: { realm: 'quotes' } }),
    ).toThrow(
      expect.objectContaining({
        headers: {
          'WWW-Authenticate':
            'Bearer realm="quotes", error="invalid_request", error_description="The request is malformed"',
        },
      }),
    );
  });
});
