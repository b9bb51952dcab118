/**
 * Reads the gateway's settings from environment variables (the bin merges a `.env` file
 * in first). Every mistake stops the start with an `EnvConfigError` naming the variable
 * to fix; secret values are never echoed. `ZITADEL_ISSUER` is required; the embedded
 * test IdP (whose demo users have well-known passwords) runs only when asked for with
 * `GATEWAY_DEV_IDP=1`, and only on a loopback host and public URL, so a deployment with
 * a forgotten variable never starts with it. See `.env.example` for every variable.
 */
import { isLoopbackHost, type IntrospectionAuth } from '@zitauth/core';
import { COOKIE_SECRET_HINT, parseCookieSecret } from './cookies.js';
import { parseM2mClients, type M2mClient } from './m2m-clients.js';
import { isProxyAddress, TRUST_PROXY_HINT, type GatewayOptions } from './options.js';
import { parseOrigin } from './origins.js';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable is missing or wrong; `variable` names it. */
export class EnvConfigError extends Error {
  override name = 'EnvConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

/** Settings that do not depend on which IdP is used. */
export type CommonOptions = Pick<
  GatewayOptions,
  | 'publicUrl'
  | 'allowedOrigins'
  | 'rateLimit'
  | 'trustProxy'
  | 'logger'
  | 'redis'
  | 'cookieSecret'
  | 'returnTo'
  | 'browserMode'
  | 'upstreams'
  | 'session'
>;

/** What the environment says. */
export interface EnvConfig {
  host: string;
  port: number;
  /** ZITADEL settings; `undefined` runs the embedded test IdP (`GATEWAY_DEV_IDP=1`). */
  zitadel: Omit<GatewayOptions, keyof CommonOptions> | undefined;
  common: CommonOptions;
  /** M2M callers, also for the embedded IdP (which otherwise makes a demo caller). */
  m2mClients: M2mClient[] | undefined;
  /** Port of the embedded test IdP; 0 picks a free one. */
  devIdpPort: number;
}

const ZITADEL_VARIABLES = [
  'ZITADEL_PROJECT_ID',
  'ZITADEL_CLIENT_ID',
  'ZITADEL_CLIENT_SECRET',
  'ZITADEL_API_CLIENT_ID',
  'ZITADEL_API_CLIENT_SECRET',
  'ZITADEL_API_KEY_FILE',
  'ZITADEL_SERVICE_KEY_FILE',
];

/** The quote API of the examples, proxied in the embedded-IdP mode when no upstream is set. */
export const DEV_UPSTREAMS = { quotes: 'http://127.0.0.1:3000/api' };

/** Origins the embedded-IdP mode allows when none are set: the SPA example's. */
export const DEV_ORIGINS = ['http://127.0.0.1:3001', 'http://localhost:3001'];

/** An unset or blank variable counts as absent. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) {
    throw new EnvConfigError(
      name,
      `must be a whole number from ${min} to ${max}, got "${value.slice(0, 20)}"`,
    );
  }
  return number;
}

function readIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvConfigError('ZITADEL_ISSUER', 'must be a URL such as https://acme.zitadel.cloud');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new EnvConfigError('ZITADEL_ISSUER', 'must use https (http only for localhost)');
  }
  // Tokens carry the issuer byte for byte; ZITADEL's has no trailing slash.
  if (value.endsWith('/')) {
    throw new EnvConfigError(
      'ZITADEL_ISSUER',
      'must not end with "/" (write https://acme.zitadel.cloud)',
    );
  }
  return value;
}

/** A pair of variables that only make sense together. */
function readPair(env: Env, first: string, second: string): [string, string] | undefined {
  const a = read(env, first);
  const b = read(env, second);
  if (a !== undefined && b === undefined)
    throw new EnvConfigError(second, `is required with ${first}`);
  if (b !== undefined && a === undefined)
    throw new EnvConfigError(first, `is required with ${second}`);
  return a === undefined || b === undefined ? undefined : [a, b];
}

function readIntrospection(env: Env): IntrospectionAuth | undefined {
  const basic = readPair(env, 'ZITADEL_API_CLIENT_ID', 'ZITADEL_API_CLIENT_SECRET');
  const keyFile = read(env, 'ZITADEL_API_KEY_FILE');
  if (basic !== undefined && keyFile !== undefined) {
    throw new EnvConfigError(
      'ZITADEL_API_KEY_FILE',
      'set either ZITADEL_API_KEY_FILE or ZITADEL_API_CLIENT_ID with ZITADEL_API_CLIENT_SECRET, not both',
    );
  }
  if (keyFile !== undefined) return { keyFile };
  return basic === undefined ? undefined : { clientId: basic[0], clientSecret: basic[1] };
}

function readM2mClients(env: Env): M2mClient[] | undefined {
  const value = read(env, 'GATEWAY_M2M_CLIENTS');
  if (value === undefined) return undefined;
  try {
    const clients = parseM2mClients(value);
    if (clients.length === 0) throw new TypeError('lists no client');
    return clients;
  } catch (error) {
    throw new EnvConfigError(
      'GATEWAY_M2M_CLIENTS',
      `${(error as Error).message} (format: id:sha256hex,id:sha256hex)`,
    );
  }
}

function readLogin(env: Env): GatewayOptions['login'] {
  const clientId = read(env, 'ZITADEL_CLIENT_ID');
  const clientSecret = read(env, 'ZITADEL_CLIENT_SECRET');
  if (clientId === undefined) {
    if (clientSecret !== undefined) {
      throw new EnvConfigError('ZITADEL_CLIENT_ID', 'is required with ZITADEL_CLIENT_SECRET');
    }
    return undefined;
  }
  return { clientId, ...(clientSecret === undefined ? {} : { clientSecret }) };
}

function readZitadel(env: Env, m2mClients: M2mClient[] | undefined): EnvConfig['zitadel'] {
  const issuer = read(env, 'ZITADEL_ISSUER');
  if (issuer === undefined) {
    const stray = ZITADEL_VARIABLES.find((name) => read(env, name) !== undefined);
    if (stray !== undefined)
      throw new EnvConfigError('ZITADEL_ISSUER', `is required when ${stray} is set`);
    return undefined;
  }
  const projectId = read(env, 'ZITADEL_PROJECT_ID');
  if (projectId === undefined) {
    throw new EnvConfigError(
      'ZITADEL_PROJECT_ID',
      'is required with ZITADEL_ISSUER (the resource id of your project)',
    );
  }
  const keyFile = read(env, 'ZITADEL_SERVICE_KEY_FILE');
  if ((keyFile === undefined) !== (m2mClients === undefined)) {
    throw keyFile === undefined
      ? new EnvConfigError('ZITADEL_SERVICE_KEY_FILE', 'is required with GATEWAY_M2M_CLIENTS')
      : new EnvConfigError(
          'GATEWAY_M2M_CLIENTS',
          'is required with ZITADEL_SERVICE_KEY_FILE: who may ask for tokens',
        );
  }
  const introspection = readIntrospection(env);
  const login = readLogin(env);
  return {
    issuer: readIssuer(issuer),
    projectId,
    ...(login === undefined ? {} : { login }),
    ...(introspection === undefined ? {} : { introspection }),
    ...(keyFile === undefined || m2mClients === undefined
      ? {}
      : {
          m2m: {
            keyFile,
            clients: m2mClients,
            maxFailures: readInteger(env, 'GATEWAY_M2M_MAX_FAILURES', 10, 1, 1_000_000),
            lockoutMs: readInteger(env, 'GATEWAY_M2M_LOCKOUT_SECONDS', 900, 1, 86_400) * 1000,
          },
        }),
  };
}

function readOrigins(env: Env, required: boolean): string[] {
  const value = read(env, 'GATEWAY_ALLOWED_ORIGINS');
  if (value === undefined) {
    if (required) {
      throw new EnvConfigError(
        'GATEWAY_ALLOWED_ORIGINS',
        'is required with ZITADEL_CLIENT_ID: the origins of your web apps',
      );
    }
    return [];
  }
  try {
    return value.split(',').map((origin) => parseOrigin(origin.trim()));
  } catch (error) {
    throw new EnvConfigError('GATEWAY_ALLOWED_ORIGINS', (error as Error).message);
  }
}

function readPublicUrl(env: Env, host: string, port: number): string {
  const value = read(env, 'GATEWAY_PUBLIC_URL');
  if (value === undefined) {
    const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
  }
  try {
    const url = new URL(value);
    if (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.search !== '' ||
      url.hash !== ''
    )
      throw new Error();
  } catch {
    throw new EnvConfigError(
      'GATEWAY_PUBLIC_URL',
      'must be the http(s) URL browsers reach the gateway at, e.g. https://auth.example.com',
    );
  }
  return value.replace(/\/$/, '');
}

function readTrustProxy(env: Env): GatewayOptions['trustProxy'] {
  const value = read(env, 'GATEWAY_TRUST_PROXY');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') {
    throw new EnvConfigError(
      'GATEWAY_TRUST_PROXY',
      `true would let any client choose its address through X-Forwarded-For (and escape every rate limit); ${TRUST_PROXY_HINT}`,
    );
  }
  if (/^\d{1,2}$/.test(value) && Number(value) <= 20) return Number(value);
  const list = value.split(',').map((entry) => entry.trim());
  const wrong = list.find((entry) => !isProxyAddress(entry));
  if (wrong !== undefined) {
    throw new EnvConfigError(
      'GATEWAY_TRUST_PROXY',
      `"${wrong.slice(0, 50)}" is not an address or CIDR; ${TRUST_PROXY_HINT}`,
    );
  }
  return list;
}

/** `GATEWAY_REDIS_URL` (+ `GATEWAY_REDIS_PASSWORD`, kept out of the URL and so out of logs). */
function readRedis(env: Env): GatewayOptions['redis'] {
  const url = read(env, 'GATEWAY_REDIS_URL');
  const password = read(env, 'GATEWAY_REDIS_PASSWORD');
  if (url === undefined) {
    if (password !== undefined)
      throw new EnvConfigError('GATEWAY_REDIS_URL', 'is required with GATEWAY_REDIS_PASSWORD');
    return undefined;
  }
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new EnvConfigError(
      'GATEWAY_REDIS_URL',
      'must be a redis:// or rediss:// URL, e.g. redis://redis.internal:6379',
    );
  }
  return { url, ...(password === undefined ? {} : { password }) };
}

/**
 * `GATEWAY_COOKIE_SECRET` seals pending logins; every replica needs the same one. Only
 * the embedded test IdP may run without it (a key per process is made then).
 */
function readCookieSecret(env: Env, required: boolean): string | undefined {
  const value = read(env, 'GATEWAY_COOKIE_SECRET');
  if (value === undefined) {
    if (required) {
      throw new EnvConfigError(
        'GATEWAY_COOKIE_SECRET',
        `is required with ZITADEL_CLIENT_ID (the same on every replica); ${COOKIE_SECRET_HINT}`,
      );
    }
    return undefined;
  }
  try {
    parseCookieSecret(value);
  } catch (error) {
    throw new EnvConfigError('GATEWAY_COOKIE_SECRET', (error as Error).message);
  }
  return value;
}

function readChoice<T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
): T | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value))
    throw new EnvConfigError(name, `must be one of ${choices.join(', ')}`);
  return value as T;
}

/** `GATEWAY_UPSTREAMS=quotes=http://127.0.0.1:3000,billing=https://billing.internal`. */
function readUpstreams(env: Env): Record<string, string> | undefined {
  const value = read(env, 'GATEWAY_UPSTREAMS');
  if (value === undefined) return undefined;
  const upstreams: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const separator = entry.indexOf('=');
    if (separator <= 0)
      throw new EnvConfigError('GATEWAY_UPSTREAMS', 'must be name=url pairs separated by commas');
    upstreams[entry.slice(0, separator).trim()] = entry.slice(separator + 1).trim();
  }
  return upstreams;
}

/** Browser mode, the session proxy's upstreams and the session cookie's SameSite. */
function readBrowser(env: Env): Pick<CommonOptions, 'browserMode' | 'upstreams' | 'session'> {
  const browserMode = readChoice(env, 'GATEWAY_BROWSER_MODE', ['session', 'token'] as const);
  const sameSite = readChoice(env, 'GATEWAY_SESSION_SAMESITE', ['strict', 'lax', 'none'] as const);
  const upstreams = readUpstreams(env);
  return {
    ...(browserMode === undefined ? {} : { browserMode }),
    ...(upstreams === undefined ? {} : { upstreams }),
    ...(sameSite === undefined ? {} : { session: { sameSite } }),
  };
}

function readCommon(env: Env, host: string, port: number, loginConfigured: boolean): CommonOptions {
  const level = read(env, 'GATEWAY_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new EnvConfigError(
      'GATEWAY_LOG_LEVEL',
      'must be one of fatal, error, warn, info, debug, trace, silent',
    );
  }
  const publicUrl = readPublicUrl(env, host, port);
  const allowedOrigins = readOrigins(env, loginConfigured);
  const redis = readRedis(env);
  const returnTo = read(env, 'GATEWAY_RETURN_TO')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const cookieSecret = readCookieSecret(env, loginConfigured);
  return {
    publicUrl,
    allowedOrigins,
    rateLimit: {
      login: readInteger(env, 'GATEWAY_RATE_LIMIT_LOGIN', 30, 1, 1_000_000),
      token: readInteger(env, 'GATEWAY_RATE_LIMIT_TOKEN', 60, 1, 1_000_000),
    },
    trustProxy: readTrustProxy(env),
    logger: { level },
    ...(redis === undefined ? {} : { redis }),
    ...(cookieSecret === undefined ? {} : { cookieSecret }),
    ...(returnTo === undefined ? {} : { returnTo }),
    ...readBrowser(env),
  };
}

/** True when `host` (an interface or URL host name) only reaches this machine. */
function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare === '::1' || isLoopbackHost(bare);
}

/**
 * Whether to run the embedded test IdP: only with `GATEWAY_DEV_IDP=1`, without a ZITADEL
 * issuer, listening on loopback and reached at a loopback URL.
 */
function readDevIdp(env: Env, issuerSet: boolean, host: string, publicUrl: string): boolean {
  const value = read(env, 'GATEWAY_DEV_IDP');
  if (value !== undefined && value !== '0' && value !== '1') {
    throw new EnvConfigError('GATEWAY_DEV_IDP', 'must be 1 (run the embedded test IdP) or 0');
  }
  const dev = value === '1';
  if (!dev) {
    if (issuerSet) return false;
    throw new EnvConfigError(
      'ZITADEL_ISSUER',
      'is required (your ZITADEL instance URL); to try the gateway without an account, set GATEWAY_DEV_IDP=1 to run the embedded test IdP on this machine only',
    );
  }
  if (issuerSet) {
    throw new EnvConfigError(
      'GATEWAY_DEV_IDP',
      'set either GATEWAY_DEV_IDP=1 or ZITADEL_ISSUER, not both',
    );
  }
  if (!isLoopback(host) || !isLoopback(new URL(publicUrl).hostname)) {
    throw new EnvConfigError(
      'GATEWAY_DEV_IDP',
      'the embedded test IdP has well-known demo passwords: it runs only with a loopback GATEWAY_HOST and GATEWAY_PUBLIC_URL (e.g. 127.0.0.1)',
    );
  }
  return true;
}

/** Reads and checks the settings; throws `EnvConfigError` naming the variable to fix. */
export function readEnvConfig(env: Env): EnvConfig {
  const host = read(env, 'GATEWAY_HOST') ?? '127.0.0.1';
  const port = readInteger(env, 'GATEWAY_PORT', 8000, 0, 65535);
  const m2mClients = readM2mClients(env);
  const zitadel = readZitadel(env, m2mClients);
  const common = readCommon(env, host, port, zitadel?.login !== undefined);
  readDevIdp(env, zitadel !== undefined, host, common.publicUrl);
  if (zitadel === undefined && common.allowedOrigins.length === 0)
    common.allowedOrigins = DEV_ORIGINS;
  if (zitadel === undefined && common.upstreams === undefined) common.upstreams = DEV_UPSTREAMS;
  return {
    host,
    port,
    zitadel,
    common,
    m2mClients,
    devIdpPort: readInteger(env, 'GATEWAY_DEV_IDP_PORT', 0, 0, 65535),
  };
}
