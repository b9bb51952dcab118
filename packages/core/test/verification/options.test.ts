import { describe, expect, it } from 'vitest';
import { createVerifier, type VerifierOptions } from '../../src/index.js';
import { resolveOptions } from '../../src/verification/options.js';

const valid: VerifierOptions = { issuer: 'https://acme.zitadel.cloud', projectId: '123' };

function refuses(options: unknown, message: RegExp): void {
  expect(() => createVerifier(options as VerifierOptions)).toThrow(
    expect.objectContaining({
      name: 'ZitauthConfigError',
      code: 'ERR_ZITAUTH_INVALID_OPTION',
      message: expect.stringMatching(message),
    }),
  );
}

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions(valid);
    expect(resolved).toMatchObject({
      issuer: 'https://acme.zitadel.cloud',
      audiences: ['123'],
      mode: 'auto',
      introspectJwt: false,
      clockToleranceMs: 5_000,
      maxTokenAgeMs: undefined,
      maxTokenBytes: 8_192,
      strictJwtProfile: false,
      transport: { query: false, body: false },
      realm: 'api',
      timeoutMs: 5_000,
      cache: {
        enabled: true,
        maxEntries: 10_000,
        maxTtlMs: 60_000,
        inactiveTtlMs: 5_000,
        maxConcurrentIntrospections: 64,
        reservedIntrospections: 16,
      },
      maxTokenLifetimeMs: 86_400_000,
      requiredClaims: ['iat', 'client_id'],
      endpointOrigins: [],
      circuitBreaker: { failureThreshold: 5, coolOffMs: 10_000 },
    });
    expect(resolved.algorithms).toContain('RS256');
    expect(resolved.algorithms).not.toContain('HS256');
  });

  it('takes configured audiences over the project id', () => {
    expect(resolveOptions({ ...valid, audience: 'api://x' }).audiences).toEqual(['api://x']);
    expect(resolveOptions({ issuer: valid.issuer, audience: ['a', 'b'] }).audiences).toEqual([
      'a',
      'b',
    ]);
  });

  it('accepts endpoint overrides, transports and a custom realm', () => {
    const resolved = resolveOptions({
      ...valid,
      endpoints: {
        jwksUri: 'https://acme.zitadel.cloud/keys',
        introspectionEndpoint: 'https://acme.zitadel.cloud/i',
      },
      tokenTransport: { query: true, body: true },
      realm: 'quotes',
      maxTokenAgeMs: 60_000,
    });
    expect(resolved).toMatchObject({
      jwksUri: 'https://acme.zitadel.cloud/keys',
      introspectionEndpoint: 'https://acme.zitadel.cloud/i',
      transport: { query: true, body: true },
      realm: 'quotes',
      maxTokenAgeMs: 60_000,
    });
  });

  it('accepts http on loopback, or anywhere when allowed', () => {
    expect(resolveOptions({ ...valid, issuer: 'http://127.0.0.1:8080' }).issuer).toBe(
      'http://127.0.0.1:8080',
    );
    expect(resolveOptions({ ...valid, issuer: 'http://localhost:8080' }).issuer).toBe(
      'http://localhost:8080',
    );
    expect(
      resolveOptions({ ...valid, issuer: 'http://zitadel:8080', allowInsecureHttp: true }).issuer,
    ).toBe('http://zitadel:8080');
  });

  it('accepts both introspection credential forms', () => {
    expect(
      resolveOptions({ ...valid, introspection: { clientId: 'a@b', clientSecret: 's' } })
        .introspection,
    ).toEqual({
      clientId: 'a@b',
      clientSecret: 's',
    });
    expect(
      resolveOptions({ ...valid, introspection: { keyFile: '/k.json' } }).introspection,
    ).toEqual({ keyFile: '/k.json' });
  });
});

describe('createVerifier configuration errors', () => {
  it('says what to fix', () => {
    refuses(undefined, /options object/);
    refuses({ projectId: '1' }, /issuer is required/);
    refuses({ ...valid, issuer: 'acme.zitadel.cloud' }, /absolute URL/);
    refuses({ ...valid, issuer: 'http://acme.zitadel.cloud' }, /must use https/);
    refuses({ ...valid, issuer: 'https://u:p@acme.zitadel.cloud' }, /credentials/);
    refuses({ issuer: valid.issuer }, /set projectId/);
    refuses({ ...valid, projectId: '' }, /projectId must be/);
    refuses({ ...valid, audience: [] }, /audience must be/);
    refuses({ ...valid, mode: 'magic' }, /mode must be/);
    refuses({ ...valid, mode: 'introspect' }, /introspection credentials are required/);
    refuses({ ...valid, introspectJwt: true }, /introspection credentials are required/);
    refuses({ ...valid, introspection: 'secret' }, /introspection must be/);
    refuses(
      { ...valid, introspection: { clientId: 'a', clientSecret: '' } },
      /clientId and clientSecret/,
    );
    refuses({ ...valid, algorithms: ['HS256'] }, /not allowed/);
    refuses({ ...valid, algorithms: ['none'] }, /not allowed/);
    refuses({ ...valid, clockToleranceMs: -1 }, /clockToleranceMs/);
    refuses({ ...valid, clockToleranceMs: Number.NaN }, /clockToleranceMs/);
    refuses({ ...valid, maxTokenBytes: 0 }, /maxTokenBytes/);
    refuses({ ...valid, maxTokenBytes: 1.5 }, /maxTokenBytes/);
    refuses({ ...valid, cache: { maxTtlMs: Infinity } }, /cache.maxTtlMs/);
    refuses({ ...valid, jwks: { cooldownMs: '30s' } }, /jwks.cooldownMs/);
    refuses({ ...valid, realm: 'a"b' }, /realm/);
    refuses({ ...valid, realm: '' }, /realm/);
    refuses({ ...valid, fetch: 'fetch' }, /fetch must be a function/);
    refuses({ ...valid, now: 5 }, /now must be a function/);
    refuses({ ...valid, roles: 5 }, /roles must be/);
    refuses({ ...valid, requireJti: 'no' }, /requireJti must be true or false/);
    refuses({ ...valid, allowedClientIds: [''] }, /allowedClientIds/);
    refuses({ ...valid, endpoints: { jwksUri: 'ftp://x' } }, /endpoints.jwksUri/);
    refuses(
      { ...valid, endpoints: { introspectionEndpoint: 'nope' } },
      /endpoints.introspectionEndpoint/,
    );
  });

  it('resolves the strict-profile options and their relaxations', () => {
    const resolved = resolveOptions({
      ...valid,
      maxTokenLifetimeMs: 3_600_000,
      requiredClaims: [],
      endpointOrigins: ['https://www.googleapis.com/ignored/path'],
      circuitBreaker: { failureThreshold: 2 },
      cache: { maxConcurrentIntrospections: 8, reservedIntrospections: 0 },
    });
    expect(resolved).toMatchObject({
      maxTokenLifetimeMs: 3_600_000,
      requiredClaims: [],
      endpointOrigins: ['https://www.googleapis.com'],
      circuitBreaker: { failureThreshold: 2, coolOffMs: 10_000 },
      cache: { maxConcurrentIntrospections: 8, reservedIntrospections: 0 },
    });
    expect(
      resolveOptions({ ...valid, cache: { maxConcurrentIntrospections: 8 } }).cache,
    ).toMatchObject({ reservedIntrospections: 2 });
  });

  it('names each wrong strict-profile option', () => {
    refuses({ ...valid, maxTokenLifetimeMs: -1 }, /maxTokenLifetimeMs/);
    refuses({ ...valid, requiredClaims: 'iat' }, /requiredClaims/);
    refuses({ ...valid, requiredClaims: [''] }, /requiredClaims/);
    refuses({ ...valid, endpointOrigins: 'https://x.example' }, /endpointOrigins/);
    refuses({ ...valid, endpointOrigins: ['http://x.example'] }, /endpointOrigins/);
    refuses({ ...valid, circuitBreaker: 5 }, /circuitBreaker/);
    refuses({ ...valid, circuitBreaker: { failureThreshold: 0 } }, /failureThreshold/);
    refuses({ ...valid, circuitBreaker: { coolOffMs: -5 } }, /coolOffMs/);
    refuses({ ...valid, cache: { reservedIntrospections: -1 } }, /reservedIntrospections/);
    refuses({ ...valid, cache: { reservedIntrospections: 1.5 } }, /reservedIntrospections/);
  });

  it('is a TypeError, thrown synchronously', () => {
    expect(() => createVerifier({ ...valid, mode: 'x' as 'jwt' })).toThrow(TypeError);
  });
});
