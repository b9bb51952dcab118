/**
 * Reads the server's settings from the environment. Every mistake stops the start with
 * a message that names the variable to fix: an API that boots with a half-configured
 * issuer would otherwise answer 401 or 503 to every request and leave you guessing.
 * Secret values are never echoed back.
 *
 *   ZITADEL_ISSUER          e.g. https://acme.zitadel.cloud (unset: the local test IdP)
 *   ZITADEL_PROJECT_ID      the project's resource id, the audience of API tokens
 *   ZITADEL_CLIENT_ID       API application client id   } introspection with Basic auth
 *   ZITADEL_CLIENT_SECRET   API application secret      }
 *   ZITADEL_KEY_FILE        API application key file (path or JSON): introspection with a signed JWT
 *   PORT                    default 3000
 *   REDIS_URL               redis:// or rediss:// URL: share verification results with the
 *                           other instances of a fleet (@zitauth/redis); unset: this process only
 *   REDIS_COMMAND_TIMEOUT_MS  longest wait for one Redis answer in milliseconds before the
 *                           instance goes on without Redis (default 50)
 *   CACHE_MAX_TTL_MS        longest reuse of a verification result in milliseconds, which is
 *                           how late a revocation is seen (default 60000)
 */
import { loadKeyFile, type IntrospectionAuth, type VerifierOptions } from '@zitauth/core';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The server's settings. */
export interface Config {
  /** Port to listen on (127.0.0.1). */
  port: number;
  /** Verifier options for a real ZITADEL; `undefined` starts the local test IdP instead. */
  zitadel: VerifierOptions | undefined;
  /** Redis shared by a fleet's instances; `undefined` caches in this process only. */
  redisUrl?: string | undefined;
  /** Longest wait for one Redis answer, in milliseconds; `undefined`: the tier's default. */
  redisCommandTimeoutMs?: number | undefined;
  /** Longest reuse of a verification result, in milliseconds; `undefined`: core's default. */
  cacheMaxTtlMs?: number | undefined;
}

/** A setting is missing or wrong; `variable` names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

const ZITADEL_VARIABLES = [
  'ZITADEL_PROJECT_ID',
  'ZITADEL_CLIENT_ID',
  'ZITADEL_CLIENT_SECRET',
  'ZITADEL_KEY_FILE',
];

/** An unset or blank variable counts as absent. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readPort(env: Env): number {
  const value = read(env, 'PORT');
  if (value === undefined) return 3000;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(
      'PORT',
      `PORT must be a port number from 0 to 65535, got "${value.slice(0, 20)}"`,
    );
  }
  return port;
}

function isLoopback(url: URL): boolean {
  return (
    url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.')
  );
}

function readIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'ZITADEL_ISSUER',
      'ZITADEL_ISSUER must be a URL such as https://acme.zitadel.cloud',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new ConfigError(
      'ZITADEL_ISSUER',
      'ZITADEL_ISSUER must use https (http only for localhost)',
    );
  }
  // Tokens carry the issuer exactly; ZITADEL's has no trailing slash, so one here never matches.
  if (value.endsWith('/')) {
    throw new ConfigError(
      'ZITADEL_ISSUER',
      'ZITADEL_ISSUER must not end with "/" (write https://acme.zitadel.cloud)',
    );
  }
  return value;
}

function readKeyFile(value: string): IntrospectionAuth {
  try {
    loadKeyFile(value, 'application', 'ZITADEL_KEY_FILE');
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^zitauth: /, '') : 'unreadable';
    throw new ConfigError('ZITADEL_KEY_FILE', reason);
  }
  return { keyFile: value };
}

/** Introspection credentials: Basic (id + secret), a key file, or none (JWTs only). */
function readIntrospection(env: Env): IntrospectionAuth | undefined {
  const clientId = read(env, 'ZITADEL_CLIENT_ID');
  const clientSecret = read(env, 'ZITADEL_CLIENT_SECRET');
  const keyFile = read(env, 'ZITADEL_KEY_FILE');
  if (keyFile !== undefined && (clientId !== undefined || clientSecret !== undefined)) {
    throw new ConfigError(
      'ZITADEL_KEY_FILE',
      'Set either ZITADEL_KEY_FILE or ZITADEL_CLIENT_ID with ZITADEL_CLIENT_SECRET, not both',
    );
  }
  if (keyFile !== undefined) return readKeyFile(keyFile);
  if (clientId !== undefined && clientSecret === undefined) {
    throw new ConfigError(
      'ZITADEL_CLIENT_SECRET',
      'ZITADEL_CLIENT_SECRET is required with ZITADEL_CLIENT_ID',
    );
  }
  if (clientSecret !== undefined && clientId === undefined) {
    throw new ConfigError(
      'ZITADEL_CLIENT_ID',
      'ZITADEL_CLIENT_ID is required with ZITADEL_CLIENT_SECRET',
    );
  }
  return clientId === undefined || clientSecret === undefined
    ? undefined
    : { clientId, clientSecret };
}

function readZitadel(env: Env): VerifierOptions | undefined {
  const issuer = read(env, 'ZITADEL_ISSUER');
  if (issuer === undefined) {
    // Half a configuration must not silently fall back to the local test IdP.
    const stray = ZITADEL_VARIABLES.find((name) => read(env, name) !== undefined);
    if (stray !== undefined) {
      throw new ConfigError('ZITADEL_ISSUER', `ZITADEL_ISSUER is required when ${stray} is set`);
    }
    return undefined;
  }
  const checkedIssuer = readIssuer(issuer);
  const projectId = read(env, 'ZITADEL_PROJECT_ID');
  if (projectId === undefined) {
    throw new ConfigError(
      'ZITADEL_PROJECT_ID',
      'ZITADEL_PROJECT_ID is required with ZITADEL_ISSUER (the resource id of your ZITADEL project)',
    );
  }
  const introspection = readIntrospection(env);
  return {
    issuer: checkedIssuer,
    projectId,
    ...(introspection === undefined ? {} : { introspection }),
  };
}

/** A Redis URL; the value is never echoed, it may hold a password. */
function readRedisUrl(env: Env): string | undefined {
  const value = read(env, 'REDIS_URL');
  if (value === undefined) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(value)) {
    throw new ConfigError(
      'REDIS_URL',
      'REDIS_URL must be a URL such as redis://cache.internal:6379',
    );
  }
  return value;
}

/** A whole number of milliseconds above 0 in `name`, or undefined when unset. */
function readMilliseconds(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new ConfigError(
      name,
      `${name} must be a whole number of milliseconds above 0, got "${value.slice(0, 20)}"`,
    );
  }
  return Number(value);
}

/** Reads and checks the settings; throws `ConfigError` naming the variable to fix. */
export function readConfig(env: Env = process.env): Config {
  const config: Config = { port: readPort(env), zitadel: readZitadel(env) };
  const redisUrl = readRedisUrl(env);
  const redisCommandTimeoutMs = readMilliseconds(env, 'REDIS_COMMAND_TIMEOUT_MS');
  const cacheMaxTtlMs = readMilliseconds(env, 'CACHE_MAX_TTL_MS');
  if (redisUrl !== undefined) config.redisUrl = redisUrl;
  if (redisCommandTimeoutMs !== undefined) config.redisCommandTimeoutMs = redisCommandTimeoutMs;
  if (cacheMaxTtlMs !== undefined) config.cacheMaxTtlMs = cacheMaxTtlMs;
  return config;
}
