import { describe, expect, it } from 'vitest';
import { extractToken, type ExtractOptions } from '../../src/verification/extract.js';

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

  it('treats the Bearer scheme with nothing after it as no token', () => {
    for (const authorization of ['Bearer', 'Bearer ', 'bearer    ', 'Bearer \t']) {
      expect(extractToken({ authorization }, options)).toBeUndefined();
    }
  });

  it.each([
    ['extra words', 'Bearer a b'],
    ['a quote', 'Bearer a"b'],
    ['a tab as separator', 'Bearer\tabc'],
    ['JWS JSON serialization', 'Bearer {"payload":"e30","signatures":[]}'],
    ['padding inside', 'Bearer ab=c'],
  ])('refuses a credential with %s as a malformed token (401)', (_, authorization) => {
    expect(() => extractToken({ authorization }, options)).toThrow(
      expect.objectContaining({ status: 401, code: 'ERR_ZITAUTH_TOKEN_MALFORMED' }),
    );
  });

  it('refuses a query or body token outside b64token as malformed', () => {
    expect(() => extractToken({ query: 'a b' }, both)).toThrow(
      expect.objectContaining({ status: 401, code: 'ERR_ZITAUTH_TOKEN_MALFORMED' }),
    );
    expect(() => extractToken({ body: '{"a":1}' }, both)).toThrow(
      expect.objectContaining({ status: 401, code: 'ERR_ZITAUTH_TOKEN_MALFORMED' }),
    );
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
    expect(extractToken({ query: 'q' }, options)).toBeUndefined();
    expect(extractToken({ body: 'b' }, options)).toBeUndefined();
    expect(extractToken({ query: 'q' }, both)).toBe('q');
    expect(extractToken({ body: ['b'] }, both)).toBe('b');
  });

  it.each([
    ['both enabled', both],
    ['neither enabled', options],
  ])('refuses two transports in one request with %s', (_, transports) => {
    for (const request of [
      { authorization: 'Bearer a', query: 'q' },
      { authorization: 'Bearer a', body: 'b' },
      { authorization: 'Bearer a b', query: 'q' },
      { query: 'q', body: 'b' },
    ]) {
      expect(() => extractToken(request, transports)).toThrow(
        expect.objectContaining({ status: 400, code: 'ERR_ZITAUTH_MULTIPLE_TOKENS' }),
      );
    }
  });

  it('refuses two query tokens', () => {
    expect(() => extractToken({ query: ['a', 'b'] }, both)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it('reads a header token alongside another scheme in no other header', () => {
    expect(extractToken({ authorization: 'Basic x', query: 'q' }, both)).toBe('q');
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
      extractToken(
        { authorization: ['Bearer a', 'Bearer b'] },
        { ...options, errors: { realm: 'quotes' } },
      ),
    ).toThrow(
      expect.objectContaining({
        headers: {
          'WWW-Authenticate':
            'Bearer realm="quotes", error="invalid_request", error_description="More than one access token was sent"',
        },
      }),
    );
  });
});
