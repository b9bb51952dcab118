/** Reading the environment: defaults, the embedded-IdP switch, and errors naming the variable. */
import { describe, expect, it } from 'vitest';
import { EnvConfigError, hashSecret, readEnvConfig } from '@zitauth/gateway';
import { DEV_ORIGINS } from '../src/env.js';

const HASH = hashSecret('s3cret');
const SECRET = Buffer.alloc(32, 1).toString('base64');
const DEV = { GATEWAY_DEV_IDP: '1' };
const ZITADEL = {
  ZITADEL_ISSUER: 'https://acme.zitadel.cloud',
  ZITADEL_PROJECT_ID: '123',
};

function errorOf(env: Record<string, string>): EnvConfigError {
  try {
    readEnvConfig(env);
  } catch (error) {
    if (error instanceof EnvConfigError) return error;
    throw error;
  }
  throw new Error('readEnvConfig accepted the environment');
}

describe('readEnvConfig', () => {
  it('runs the embedded IdP with the example SPA origins when GATEWAY_DEV_IDP=1', () => {
    const config = readEnvConfig(DEV);
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8000,
      zitadel: undefined,
      devIdpPort: 0,
    });
    expect(config.common).toMatchObject({
      publicUrl: 'http://127.0.0.1:8000',
      allowedOrigins: DEV_ORIGINS,
      trustProxy: false,
      rateLimit: { login: 30, token: 60 },
      logger: { level: 'info' },
    });
  });

  it('reads a full ZITADEL configuration', () => {
    const config = readEnvConfig({
      ...ZITADEL,
      ZITADEL_CLIENT_ID: 'web@acme',
      GATEWAY_COOKIE_SECRET: SECRET,
      ZITADEL_API_CLIENT_ID: 'api@acme',
      ZITADEL_API_CLIENT_SECRET: 'secret',
      ZITADEL_SERVICE_KEY_FILE: './service.json',
      GATEWAY_M2M_CLIENTS: `billing:${HASH}`,
      GATEWAY_M2M_MAX_FAILURES: '5',
      GATEWAY_M2M_LOCKOUT_SECONDS: '60',
      GATEWAY_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:3001',
      GATEWAY_PUBLIC_URL: 'https://auth.example.com/',
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PORT: '9000',
      GATEWAY_TRUST_PROXY: '10.0.0.0/8,127.0.0.1, fd00::/8',
      GATEWAY_RATE_LIMIT_LOGIN: '5',
      GATEWAY_LOG_LEVEL: 'warn',
    });
    expect(config.zitadel).toEqual({
      issuer: 'https://acme.zitadel.cloud',
      projectId: '123',
      login: { clientId: 'web@acme' },
      introspection: { clientId: 'api@acme', clientSecret: 'secret' },
      m2m: {
        keyFile: './service.json',
        clients: [{ id: 'billing', secretSha256: HASH }],
        maxFailures: 5,
        lockoutMs: 60_000,
      },
    });
    expect(config.common).toMatchObject({
      publicUrl: 'https://auth.example.com',
      allowedOrigins: ['https://app.example.com', 'http://localhost:3001'],
      trustProxy: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8'],
      rateLimit: { login: 5, token: 60 },
      logger: { level: 'warn' },
      cookieSecret: SECRET,
    });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 9000 });
  });

  it('reads the fleet store: a Redis URL and its password', () => {
    const config = readEnvConfig({
      ...DEV,
      GATEWAY_REDIS_URL: 'rediss://redis.internal:6380/2',
      GATEWAY_REDIS_PASSWORD: 'pw',
    });
    expect(config.common.redis).toEqual({ url: 'rediss://redis.internal:6380/2', password: 'pw' });
    expect(readEnvConfig(DEV).common.redis).toBeUndefined();
  });

  it('reads the return-page allowlist', () => {
    const config = readEnvConfig({
      ...ZITADEL,
      GATEWAY_ALLOWED_ORIGINS: 'https://app.example.com',
      GATEWAY_RETURN_TO: 'https://app.example.com/, https://app.example.com/app/*',
    });
    expect(config.common.returnTo).toEqual([
      'https://app.example.com/',
      'https://app.example.com/app/*',
    ]);
  });

  it('derives the public URL from a wildcard host as loopback', () => {
    expect(
      readEnvConfig({ ...ZITADEL, GATEWAY_HOST: '::', GATEWAY_PORT: '8001' }).common.publicUrl,
    ).toBe('http://127.0.0.1:8001');
  });

  it('reads an introspection key file and a hop count', () => {
    const config = readEnvConfig({
      ...ZITADEL,
      ZITADEL_API_KEY_FILE: './api.json',
      GATEWAY_TRUST_PROXY: '1',
    });
    expect(config.zitadel?.introspection).toEqual({ keyFile: './api.json' });
    expect(config.common.trustProxy).toBe(1);
  });

  it('accepts a plain-http issuer on any loopback host core accepts', () => {
    for (const issuer of ['http://127.0.0.2:8080', 'http://zitadel.localhost:8080']) {
      expect(readEnvConfig({ ...ZITADEL, ZITADEL_ISSUER: issuer }).zitadel).toMatchObject({
        issuer,
      });
    }
  });

  it.each([
    ['ZITADEL_ISSUER', { ZITADEL_PROJECT_ID: '1' }, /required when ZITADEL_PROJECT_ID is set/],
    [
      'ZITADEL_ISSUER',
      { ZITADEL_ISSUER: 'acme.zitadel.cloud', ZITADEL_PROJECT_ID: '1' },
      /must be a URL/,
    ],
    [
      'ZITADEL_ISSUER',
      { ZITADEL_ISSUER: 'http://acme.example.com', ZITADEL_PROJECT_ID: '1' },
      /https/,
    ],
    [
      'ZITADEL_ISSUER',
      { ZITADEL_ISSUER: 'https://acme.zitadel.cloud/', ZITADEL_PROJECT_ID: '1' },
      /end with "\/"/,
    ],
    ['ZITADEL_PROJECT_ID', { ZITADEL_ISSUER: 'https://a.test' }, /required with ZITADEL_ISSUER/],
    ['GATEWAY_REDIS_URL', { GATEWAY_REDIS_URL: 'redis.internal:6379' }, /redis:\/\//],
    [
      'GATEWAY_TRUST_PROXY',
      { GATEWAY_TRUST_PROXY: 'true' },
      /choose its address.*number of proxies in front of the gateway \(e\.g\. 1\)/,
    ],
    ['GATEWAY_TRUST_PROXY', { GATEWAY_TRUST_PROXY: '10.0.0.0/33' }, /"10.0.0.0\/33" is not/],
    ['GATEWAY_TRUST_PROXY', { GATEWAY_TRUST_PROXY: 'proxy.internal' }, /is not an address/],
    [
      'GATEWAY_COOKIE_SECRET',
      { ...ZITADEL, ZITADEL_CLIENT_ID: 'web', GATEWAY_ALLOWED_ORIGINS: 'https://a.test' },
      /required with ZITADEL_CLIENT_ID.*openssl rand -base64 32/,
    ],
    ['GATEWAY_COOKIE_SECRET', { GATEWAY_COOKIE_SECRET: 'short' }, /openssl rand -base64 32/],
    ['GATEWAY_REDIS_URL', { GATEWAY_REDIS_PASSWORD: 'pw' }, /required with GATEWAY_REDIS_PASSWORD/],
    [
      'GATEWAY_ALLOWED_ORIGINS',
      { ...ZITADEL, ZITADEL_CLIENT_ID: 'web' },
      /required with ZITADEL_CLIENT_ID/,
    ],
    ['GATEWAY_ALLOWED_ORIGINS', { GATEWAY_ALLOWED_ORIGINS: 'https://a.test/path' }, /origin only/],
    [
      'ZITADEL_CLIENT_ID',
      { ...ZITADEL, ZITADEL_CLIENT_SECRET: 's' },
      /required with ZITADEL_CLIENT_SECRET/,
    ],
    [
      'ZITADEL_API_CLIENT_SECRET',
      { ...ZITADEL, ZITADEL_API_CLIENT_ID: 'a' },
      /required with ZITADEL_API_CLIENT_ID/,
    ],
    ['ZITADEL_API_CLIENT_ID', { ...ZITADEL, ZITADEL_API_CLIENT_SECRET: 's' }, /required with/],
    [
      'ZITADEL_API_KEY_FILE',
      {
        ...ZITADEL,
        ZITADEL_API_CLIENT_ID: 'a',
        ZITADEL_API_CLIENT_SECRET: 's',
        ZITADEL_API_KEY_FILE: 'k',
      },
      /not both/,
    ],
    [
      'ZITADEL_SERVICE_KEY_FILE',
      { ...ZITADEL, GATEWAY_M2M_CLIENTS: `a:${HASH}` },
      /required with GATEWAY_M2M_CLIENTS/,
    ],
    [
      'GATEWAY_M2M_CLIENTS',
      { ...ZITADEL, ZITADEL_SERVICE_KEY_FILE: 'k' },
      /who may ask for tokens/,
    ],
    ['GATEWAY_M2M_CLIENTS', { GATEWAY_M2M_CLIENTS: 'a:b' }, /64 hex digits/],
    ['GATEWAY_M2M_CLIENTS', { GATEWAY_M2M_CLIENTS: ' , ' }, /lists no client/],
    ['GATEWAY_PORT', { GATEWAY_PORT: '70000' }, /0 to 65535/],
    ['GATEWAY_PORT', { GATEWAY_PORT: 'eighty' }, /whole number/],
    ['GATEWAY_PUBLIC_URL', { GATEWAY_PUBLIC_URL: 'auth.example.com' }, /http\(s\) URL/],
    ['GATEWAY_TRUST_PROXY', { GATEWAY_TRUST_PROXY: 'yes please' }, /number of proxies in front/],
    ['GATEWAY_RATE_LIMIT_TOKEN', { GATEWAY_RATE_LIMIT_TOKEN: '0' }, /from 1/],
    ['GATEWAY_LOG_LEVEL', { GATEWAY_LOG_LEVEL: 'loud' }, /one of/],
    ['ZITADEL_ISSUER', {}, /is required \(your ZITADEL instance URL\).*GATEWAY_DEV_IDP=1/],
    ['GATEWAY_DEV_IDP', { ...DEV, ...ZITADEL }, /not both/],
    ['GATEWAY_DEV_IDP', { GATEWAY_DEV_IDP: 'yes' }, /must be 1/],
    ['GATEWAY_DEV_IDP', { ...DEV, GATEWAY_HOST: '0.0.0.0' }, /loopback GATEWAY_HOST/],
    [
      'GATEWAY_DEV_IDP',
      { ...DEV, GATEWAY_PUBLIC_URL: 'https://auth.example.com' },
      /well-known demo passwords/,
    ],
  ])('names %s when it is wrong (%j)', (variable, env, message) => {
    const error = errorOf(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('runs the embedded IdP on any loopback host and URL', () => {
    for (const env of [
      { GATEWAY_HOST: '::1' },
      { GATEWAY_HOST: 'localhost', GATEWAY_PUBLIC_URL: 'http://gateway.localhost:8000' },
    ]) {
      expect(readEnvConfig({ ...DEV, ...env }).zitadel).toBeUndefined();
    }
  });

  it('never echoes a secret in an error', () => {
    const error = errorOf({ ...ZITADEL, ZITADEL_API_CLIENT_SECRET: 'top-secret-value' });
    expect(error.message).not.toContain('top-secret-value');
  });
});

describe('readEnvConfig: browsers', () => {
  it('reads the browser mode, the upstreams and the session cookie SameSite', () => {
    const config = readEnvConfig({
      GATEWAY_DEV_IDP: '1',
      GATEWAY_BROWSER_MODE: 'token',
      GATEWAY_UPSTREAMS: 'quotes=http://127.0.0.1:3000, billing=https://billing.internal/v2',
      GATEWAY_SESSION_SAMESITE: 'lax',
    });
    expect(config.common).toMatchObject({
      browserMode: 'token',
      upstreams: { quotes: 'http://127.0.0.1:3000', billing: 'https://billing.internal/v2' },
      session: { sameSite: 'lax' },
    });
  });

  it('proxies the example quote API in the embedded-IdP mode when no upstream is set', () => {
    const { common } = readEnvConfig({ GATEWAY_DEV_IDP: '1' });
    expect(common).not.toHaveProperty('browserMode');
    expect(common.upstreams).toEqual({ quotes: 'http://127.0.0.1:3000/api' });
    const zitadel = readEnvConfig({ ...ZITADEL });
    expect(zitadel.common).not.toHaveProperty('upstreams');
  });

  it.each([
    ['GATEWAY_BROWSER_MODE', { GATEWAY_BROWSER_MODE: 'cookies' }, /session, token/],
    ['GATEWAY_UPSTREAMS', { GATEWAY_UPSTREAMS: 'http://127.0.0.1:3000' }, /name=url/],
    ['GATEWAY_SESSION_SAMESITE', { GATEWAY_SESSION_SAMESITE: 'off' }, /strict, lax, none/],
  ])('names %s when it is wrong', (variable, env, message) => {
    const error = errorOf({ GATEWAY_DEV_IDP: '1', ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });
});
