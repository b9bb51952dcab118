/**
 * The error hierarchy: status, exact `WWW-Authenticate` values, bodies, sanitising of
 * quoted challenge values, and `Retry-After` on upstream failures.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REALM,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  UnauthorizedError,
  UpstreamError,
  ZitauthConfigError,
  ZitauthError,
  bearerChallenge,
  isZitauthError,
} from '../src/errors.js';

describe('bearerChallenge', () => {
  it('builds a bare challenge when no parameter is set', () => {
    expect(bearerChallenge({})).toBe('Bearer');
    expect(bearerChallenge({ realm: undefined })).toBe('Bearer');
  });

  it('keeps parameter order and skips undefined values', () => {
    expect(bearerChallenge({ realm: 'api', error: undefined, scope: 'a b' })).toBe(
      'Bearer realm="api", scope="a b"',
    );
  });

  it('drops quotes, backslashes and control characters so no header can be injected', () => {
    const value = bearerChallenge({ realm: 'a"b\\c\r\nSet-Cookie: x=1\u0000\u00e9\u007f' });
    expect(value).toBe('Bearer realm="abcSet-Cookie: x=1"');
  });

  it('keeps every character RFC 6750 allows in a quoted value', () => {
    const allowed = " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~";
    expect(bearerChallenge({ realm: allowed })).toBe(`Bearer realm="${allowed}"`);
  });
});

describe('InvalidTokenError', () => {
  it('answers 401 invalid_token with the description in the challenge', () => {
    const error = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED');
    expect(error.status).toBe(401);
    expect(error.statusCode).toBe(401);
    expect(error.expose).toBe(true);
    expect(error.code).toBe('ERR_ZITAUTH_TOKEN_EXPIRED');
    expect(error.name).toBe('InvalidTokenError');
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    );
    expect(error.body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token expired',
    });
  });

  it('defaults to a malformed token', () => {
    const error = new InvalidTokenError();
    expect(error.code).toBe('ERR_ZITAUTH_TOKEN_MALFORMED');
    expect(error.message).toBe('The access token is malformed');
  });

  it('uses a custom realm, sanitised', () => {
    const error = new InvalidTokenError('ERR_ZITAUTH_TOKEN_INACTIVE', { realm: 'orders"\napi' });
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="ordersapi", error="invalid_token", error_description="The access token is not active"',
    );
  });

  it('keeps the cause for logs but out of the body and JSON', () => {
    const cause = new Error('jose: signature verification failed for eyJsecret');
    const error = new InvalidTokenError('ERR_ZITAUTH_SIGNATURE_INVALID', { cause });
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error)).toBe(
      '{"error":"invalid_token","error_description":"The access token signature is invalid"}',
    );
    expect(String(error)).toBe('InvalidTokenError: The access token signature is invalid');
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new InvalidTokenError()).toBe(false);
  });
});

describe('UnauthorizedError', () => {
  it('answers 401 with a bare challenge and no error code (RFC 6750 §3.1)', () => {
    const error = new UnauthorizedError();
    expect(error.status).toBe(401);
    expect(error.code).toBe('ERR_ZITAUTH_NO_TOKEN');
    expect(error.error).toBeUndefined();
    expect(error.headers['WWW-Authenticate']).toBe('Bearer realm="api"');
    expect(error.body).toEqual({
      error: 'unauthorized',
      error_description: 'No access token was sent',
    });
  });

  it('uses a custom realm', () => {
    expect(new UnauthorizedError({ realm: 'orders' }).headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders"',
    );
  });
});

describe('InvalidRequestError', () => {
  it('answers 400 invalid_request', () => {
    const error = new InvalidRequestError('ERR_ZITAUTH_MULTIPLE_TOKENS');
    expect(error.status).toBe(400);
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="More than one access token was sent"',
    );
  });

  it('defaults to a malformed request', () => {
    expect(new InvalidRequestError().code).toBe('ERR_ZITAUTH_INVALID_REQUEST');
  });
});

describe('InsufficientScopeError', () => {
  it('answers 403 insufficient_scope without a scope parameter by default', () => {
    const error = new InsufficientScopeError();
    expect(error.status).toBe(403);
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission"',
    );
  });

  it('ignores an empty scope list', () => {
    expect(new InsufficientScopeError({ scopes: [] }).headers['WWW-Authenticate']).not.toContain(
      'scope="',
    );
  });

  it('names the required scopes in the realm it was given', () => {
    const error = new InsufficientScopeError({ scopes: ['read', 'write'], realm: 'orders' });
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders", error="insufficient_scope", error_description="The access token does not grant the required permission", scope="read write"',
    );
  });

  it('names the scopes in the default realm', () => {
    expect(new InsufficientScopeError({ scopes: ['read'] }).headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="api", .* scope="read"$/,
    );
  });
});

describe('UpstreamError', () => {
  it('answers 503 temporarily_unavailable with Retry-After and a bare challenge', () => {
    const error = new UpstreamError();
    expect(error.status).toBe(503);
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
    expect(error.error).toBeUndefined();
    expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"', 'Retry-After': '5' });
    expect(error.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token could not be checked; try again later',
    });
    expect(JSON.stringify(error)).toBe(JSON.stringify(error.body));
  });

  it('takes a timeout code and a Retry-After in seconds', () => {
    const error = new UpstreamError('ERR_ZITAUTH_UPSTREAM_TIMEOUT', { retryAfterSeconds: 30 });
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM_TIMEOUT');
    expect(error.headers['Retry-After']).toBe('30');
  });

  it('sends whole non-negative seconds in Retry-After', () => {
    expect(new UpstreamError(undefined, { retryAfterSeconds: 2.2 }).headers['Retry-After']).toBe(
      '3',
    );
    expect(new UpstreamError(undefined, { retryAfterSeconds: -4 }).headers['Retry-After']).toBe(
      '0',
    );
    expect(new UpstreamError(undefined, { retryAfterSeconds: NaN }).headers['Retry-After']).toBe(
      '5',
    );
  });
});

describe('challenge strings', () => {
  it('are never shared by two different sets of parameters', () => {
    // Values that would join to the same text without a boundary between them.
    const pairs = [
      [
        { realm: 'ab', resourceMetadata: 'c' },
        { realm: 'a', resourceMetadata: 'bc' },
      ],
      [{ realm: 'a~' }, { realm: 'a' }],
      [{ realm: '1:x' }, { realm: 'x' }],
    ] as const;
    for (const [one, other] of pairs) {
      const first = new UnauthorizedError(one).headers['WWW-Authenticate'];
      const second = new UnauthorizedError(other).headers['WWW-Authenticate'];
      expect(first).not.toBe(second);
      expect(new UnauthorizedError(one).headers['WWW-Authenticate']).toBe(first);
    }
    const scoped = new InsufficientScopeError({ scopes: ['x'] }).headers['WWW-Authenticate'];
    const described = new InsufficientScopeError({ resourceMetadata: 'x' }).headers[
      'WWW-Authenticate'
    ];
    expect(scoped).toContain('scope="x"');
    expect(described).toContain('resource_metadata="x"');
  });

  it('follow a realm or DPoP change made after construction', () => {
    const error = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED').withRealm('orders');
    expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer realm="orders", error=/);
    error.withDpop({ algs: 'ES256', bearer: false, used: 'DPoP' });
    expect(error.headers['WWW-Authenticate']).toMatch(
      /^DPoP realm="orders", error=.* algs="ES256"$/,
    );
    const plain = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED').withRealm('orders');
    expect(plain.headers['WWW-Authenticate']).toMatch(/^Bearer /);
  });
});

describe('error names', () => {
  it("are each class's own, and an error prints with it", () => {
    const errors = {
      InvalidTokenError: new InvalidTokenError(),
      InvalidRequestError: new InvalidRequestError(),
      UnauthorizedError: new UnauthorizedError(),
      InsufficientScopeError: new InsufficientScopeError(),
      UpstreamError: new UpstreamError(),
    };
    for (const [name, error] of Object.entries(errors)) {
      expect(error.name).toBe(name);
      expect(String(error)).toBe(`${name}: ${error.message}`);
      expect(error.expose).toBe(true);
    }
  });
});

describe('ZitauthError', () => {
  it('is the base of every run-time error', () => {
    for (const error of [
      new InvalidTokenError(),
      new InvalidRequestError(),
      new UnauthorizedError(),
      new InsufficientScopeError(),
      new UpstreamError(),
    ]) {
      expect(error).toBeInstanceOf(ZitauthError);
      expect(error).toBeInstanceOf(Error);
      expect(isZitauthError(error)).toBe(true);
    }
    expect(isZitauthError(new Error('x'))).toBe(false);
    expect(isZitauthError(new ZitauthConfigError('x'))).toBe(false);
    expect(isZitauthError(undefined)).toBe(false);
  });

  it('can be built directly with any code and status', () => {
    const error = new ZitauthError('ERR_ZITAUTH_CLAIM_INVALID', 401, 'invalid_token');
    expect(error.name).toBe('ZitauthError');
    expect(error.body.error).toBe('invalid_token');
  });

  it('exports the default realm', () => {
    expect(DEFAULT_REALM).toBe('api');
  });
});

describe('withRealm', () => {
  it('rewrites the challenge with the configured realm, sanitised, and returns the error', () => {
    const error = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED');
    expect(error.withRealm('orders"\r\n')).toBe(error);
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders", error="invalid_token", error_description="The access token expired"',
    );
  });

  it('leaves the challenge alone when the realm is unchanged', () => {
    const error = new UnauthorizedError({ realm: 'orders' });
    const before = error.headers;
    error.withRealm('orders');
    expect(error.headers).toBe(before);
    expect(error.headers['WWW-Authenticate']).toBe('Bearer realm="orders"');
  });

  it('keeps the scope parameter and Retry-After', () => {
    const forbidden = new InsufficientScopeError({ scopes: ['read'] }).withRealm('orders');
    expect(forbidden.headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders", error="insufficient_scope", error_description="The access token does not grant the required permission", scope="read"',
    );
    const upstream = new UpstreamError().withRealm('orders');
    expect(upstream.headers).toEqual({
      'WWW-Authenticate': 'Bearer realm="orders"',
      'Retry-After': '5',
    });
  });
});

describe('ZitauthConfigError', () => {
  it('is a coded TypeError', () => {
    const error = new ZitauthConfigError('zitauth: issuer is required');
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('ZitauthConfigError');
    expect(error.code).toBe('ERR_ZITAUTH_INVALID_OPTION');
    expect(error.message).toBe('zitauth: issuer is required');
  });

  it('takes the key file code and a cause', () => {
    const cause = new Error('bad');
    const error = new ZitauthConfigError('x', 'ERR_ZITAUTH_INVALID_KEY_FILE', { cause });
    expect(error.code).toBe('ERR_ZITAUTH_INVALID_KEY_FILE');
    expect(error.cause).toBe(cause);
  });
});

describe('the cost of a refusal', () => {
  it('builds client errors without stack frames, leaving the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    for (const error of [
      new InvalidTokenError(),
      new UnauthorizedError(),
      new InvalidRequestError(),
      new InsufficientScopeError(),
    ]) {
      expect(error.stack).not.toMatch(/\n\s+at /);
      expect(error.status).toBeLessThan(500);
    }
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('keeps the stack of an IdP outage, which an operator may need', () => {
    expect(new UpstreamError().stack).toMatch(/\n\s+at /);
  });

  it('answers the same challenge for every realm however many it has seen', () => {
    for (let i = 0; i < 1_100; i += 1) {
      const error = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED', { realm: `realm-${i}` });
      expect(error.headers['WWW-Authenticate']).toBe(
        `Bearer realm="realm-${i}", error="invalid_token", error_description="The access token expired"`,
      );
    }
  });
});
