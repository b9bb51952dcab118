// Unknown option keys are refused with the closest known key: the helper itself, and every
// options object core reads, at the top level and nested.
import { describe, expect, it } from 'vitest';
import {
  createMultiIssuerVerifier,
  createTokenClient,
  createVerifier,
  fetchUserinfo,
  resolveAuthOptions,
  roleGuard,
  scopeGuard,
  ZitauthConfigError,
  type RequestAccess,
} from '../src/index.js';
import { checkOptionKeys, closestKey, editDistance } from '../src/option-keys.js';

const issuer = 'https://acme.zitadel.cloud';
const valid = { issuer, projectId: '123' };

/** The error `build` throws, asserted to be a coded config error. */
function configError(build: () => unknown): ZitauthConfigError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ZitauthConfigError);
  expect((thrown as ZitauthConfigError).code).toBe('ERR_ZITAUTH_INVALID_OPTION');
  return thrown as ZitauthConfigError;
}

describe('editDistance', () => {
  it.each([
    ['issuer', 'issuer', 0],
    ['issur', 'issuer', 1],
    ['instrospection', 'introspection', 1],
    ['authRequierd', 'authRequired', 1],
    ['ab', 'ba', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestKey', () => {
  const known = ['issuer', 'projectId', 'audience', 'introspection', 'mode', 'realm'];

  it('suggests the key a typo most likely meant', () => {
    expect(closestKey('issur', known)).toBe('issuer');
    expect(closestKey('instrospection', known)).toBe('introspection');
    expect(closestKey('audiance', known)).toBe('audience');
  });

  it('ignores case', () => {
    expect(closestKey('projectID', known)).toBe('projectId');
    expect(closestKey('ISSUER', known)).toBe('issuer');
  });

  it('suggests nothing when no key is close', () => {
    expect(closestKey('timeout', known)).toBeUndefined();
    expect(closestKey('x', known)).toBeUndefined();
    // Three edits on a five-letter key is another word, not a typo.
    expect(closestKey('model', ['mode'])).toBe('mode');
    expect(closestKey('xyzde', ['mode'])).toBeUndefined();
  });
});

describe('checkOptionKeys', () => {
  it('accepts known keys and leaves non-objects alone', () => {
    expect(() => checkOptionKeys({ a: 1, b: undefined }, ['a', 'b'], 'x')).not.toThrow();
    expect(() => checkOptionKeys(undefined, ['a'], 'x')).not.toThrow();
    expect(() => checkOptionKeys('text', ['a'], 'x')).not.toThrow();
  });

  it('names the key, where it was found and the suggestion', () => {
    expect(configError(() => checkOptionKeys({ issur: 'x' }, ['issuer'], 'things')).message).toBe(
      'zitauth: unknown option "issur" in things; did you mean "issuer"?',
    );
  });

  it('lists the known keys when none is close, under the given prefix', () => {
    expect(
      configError(() => checkOptionKeys({ zzz: 1 }, ['url', 'client'], 'store', '@zitauth/redis'))
        .message,
    ).toBe('@zitauth/redis: unknown option "zzz" in store; known options: url, client');
  });

  it('refuses a key given as undefined too', () => {
    expect(() => checkOptionKeys({ issur: undefined }, ['issuer'], 'x')).toThrow(/issur/);
  });

  it('quotes a hostile key printably and briefly', () => {
    const message = configError(() =>
      checkOptionKeys({ ['\n'.repeat(3) + 'k'.repeat(100)]: 1 }, ['a'], 'x'),
    ).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`"???${'k'.repeat(37)}…"`);
  });
});

describe('createVerifier', () => {
  it('refuses a misspelt issuer with a suggestion', () => {
    expect(
      configError(() => createVerifier({ issur: issuer, projectId: '1' } as never)).message,
    ).toBe('zitauth: unknown option "issur" in createVerifier options; did you mean "issuer"?');
  });

  it('refuses a misspelt introspection', () => {
    const options = { ...valid, instrospection: { clientId: 'a', clientSecret: 'b' } };
    expect(configError(() => createVerifier(options as never)).message).toMatch(
      /unknown option "instrospection" in createVerifier options; did you mean "introspection"\?/,
    );
  });

  it('accepts every documented option', () => {
    const verifier = createVerifier({
      ...valid,
      audience: ['123'],
      allowedClientIds: ['c'],
      mode: 'auto',
      introspectJwt: false,
      algorithms: ['RS256'],
      clockToleranceMs: 1,
      maxTokenAgeMs: 1,
      maxTokenLifetimeMs: 1,
      requiredClaims: ['iat'],
      maxTokenBytes: 100,
      requireJti: true,
      strictJwtProfile: false,
      roles: 'roles',
      tokenTransport: { query: false, body: false },
      realm: 'api',
      cache: {
        maxEntries: 1,
        maxTtlMs: 1,
        inactiveTtlMs: 1,
        maxConcurrentIntrospections: 4,
        reservedIntrospections: 1,
        enabled: true,
      },
      jwks: {
        defaultMaxAgeMs: 60_000,
        minMaxAgeMs: 1_000,
        maxMaxAgeMs: 120_000,
        cooldownMs: 1,
        maxStaleMs: 1,
        maxResponseBytes: 1_000,
      },
      endpoints: { jwksUri: `${issuer}/keys`, introspectionEndpoint: `${issuer}/introspect` },
      endpointOrigins: ['https://keys.example.com'],
      circuitBreaker: { failureThreshold: 1, coolOffMs: 1 },
      timeoutMs: 1,
      fetch: globalThis.fetch,
      allowInsecureHttp: false,
      now: Date.now,
    });
    verifier.close();
  });

  it.each([
    ['cache', { maxEntrys: 5 }, 'maxEntries'],
    ['jwks', { coolDownMs: 5 }, 'cooldownMs'],
    ['endpoints', { jwksUrl: `${issuer}/keys` }, 'jwksUri'],
    ['tokenTransport', { querry: true }, 'query'],
    ['circuitBreaker', { failureTreshold: 2 }, 'failureThreshold'],
    ['introspection', { clientId: 'a', clientSecret: 'b', clientSecrte: 'c' }, 'clientSecret'],
  ])('refuses a misspelt key inside %s', (name, value, meant) => {
    const message = configError(() => createVerifier({ ...valid, [name]: value })).message;
    expect(message).toMatch(new RegExp(`in ${name}; did you mean "${meant}"\\?$`));
  });

  it('refuses introspection with both a key file and a secret', () => {
    const introspection = { keyFile: '{}', clientId: 'a', clientSecret: 'b' };
    expect(configError(() => createVerifier({ ...valid, introspection } as never)).message).toMatch(
      /either \{ keyFile \} or \{ clientId, clientSecret \}/,
    );
  });
});

describe('createMultiIssuerVerifier', () => {
  it('refuses a misspelt key beside issuers', () => {
    const options = { issuers: [valid], opaqueIssur: issuer };
    expect(configError(() => createMultiIssuerVerifier(options as never)).message).toBe(
      'zitauth: unknown option "opaqueIssur" in createMultiIssuerVerifier options; did you mean "opaqueIssuer"?',
    );
  });

  it('names the entry of issuers that holds a misspelt key', () => {
    const options = { issuers: [valid, { issuer: 'https://b.example.com', projectID: '2' }] };
    expect(configError(() => createMultiIssuerVerifier(options as never)).message).toBe(
      'zitauth: unknown option "projectID" in issuers[1]; did you mean "projectId"?',
    );
  });
});

describe('resolveAuthOptions (the adapters’ options)', () => {
  it('suggests authRequired for a misspelt one', () => {
    const options = { ...valid, authRequierd: false };
    expect(configError(() => resolveAuthOptions(options as never)).message).toBe(
      'zitauth: unknown option "authRequierd" in auth() options; did you mean "authRequired"?',
    );
  });

  it('knows the adapter’s own keys and leaves them out of the verifier', () => {
    const resolved = resolveAuthOptions({ ...valid, extra: true } as never, 'the plugin', [
      'extra',
    ]);
    expect(resolved.owned).toBe(true);
    resolved.verifier.close();
    expect(
      configError(() =>
        resolveAuthOptions({ ...valid, extar: 1 } as never, 'the plugin', ['extra']),
      ).message,
    ).toMatch(/in the plugin options; did you mean "extra"\?/);
  });

  it('checks the several-issuers and shared-verifier forms too', () => {
    expect(
      configError(() => resolveAuthOptions({ issuers: [valid], realmm: 'x' } as never)).message,
    ).toMatch(/unknown option "realmm" in auth\(\) options; did you mean "realm"\?/);
    const verifier = createVerifier(valid);
    expect(configError(() => resolveAuthOptions({ verifier, issuer } as never)).message).toMatch(
      /unknown option "issuer" in auth\(\) options beside verifier/,
    );
    expect(
      configError(() => resolveAuthOptions({ ...valid, isuers: [valid] } as never)).message,
    ).toMatch(/did you mean "issuers"\?/);
    verifier.close();
  });
});

describe('guard options', () => {
  const access: RequestAccess<unknown> = { param: () => undefined, message: () => ({}) as never };

  it('refuses a misspelt org, which would otherwise allow any organisation', () => {
    expect(
      configError(() => roleGuard('admin', { orgs: { param: 'orgId' } } as never, access)).message,
    ).toBe('zitauth: unknown option "orgs" in requireRoles options; did you mean "org"?');
    expect(configError(() => scopeGuard('read', { mach: 'any' } as never)).message).toMatch(
      /did you mean "match"\?/,
    );
  });
});

describe('createTokenClient and fetchUserinfo', () => {
  it('refuse misspelt keys', async () => {
    const options = { issuer, personalAccessToken: 'pat', projectIDs: ['1'] };
    expect(configError(() => createTokenClient(options as never)).message).toBe(
      'zitauth: unknown option "projectIDs" in createTokenClient options; did you mean "projectIds"?',
    );
    const retry = { issuer, personalAccessToken: 'pat', retry: { attempt: 2 } };
    expect(configError(() => createTokenClient(retry as never)).message).toMatch(
      /in createTokenClient retry; did you mean "attempts"\?/,
    );
    await expect(
      fetchUserinfo('token', { issuer, userinfoEndpiont: `${issuer}/u` } as never),
    ).rejects.toThrow(
      /unknown option "userinfoEndpiont" in fetchUserinfo options; did you mean "userinfoEndpoint"\?/,
    );
  });
});
