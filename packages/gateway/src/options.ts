/**
 * What `createGateway` accepts, checked once where the gateway is built. A mistake throws
 * a `GatewayConfigError` naming the option, so a gateway never starts half-configured
 * (an open M2M route, a login that can redirect anywhere). The environment is read
 * elsewhere (`env.ts`); this module only sees values.
 */
import type { FetchLike, IntrospectionAuth, KeyFileInput } from '@zitauth/core';
import {
  resolveBrowserOptions,
  type BrowserOptionsInput,
  type ResolvedBrowserOptions,
} from './browser-options.js';
import type { LogOptions } from './logging.js';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { COOKIE_SECRET_HINT, parseCookieSecret } from './cookies.js';
import { checkM2mClient, type M2mClient } from './m2m-clients.js';
import { defaultReturnRules, parseOrigin, parseReturnRule, type ReturnRule } from './origins.js';
import type { GatewayStore, RedisStoreOptions } from './store.js';

/** Browser login (authorization code with PKCE). */
export interface LoginOptions {
  /** Client id of the ZITADEL application ("User Agent" with PKCE, or "Web"). */
  clientId: string;
  /** Secret of a "Web" application; leave unset for a PKCE-only "User Agent" app. */
  clientSecret?: string | undefined;
  /**
   * Scopes besides `openid profile email`, the project audience, the roles scope and
   * `urn:zitadel:iam:user:resourceowner`. @default []
   */
  extraScopes?: readonly string[] | undefined;
  /** How long a started login stays valid, in milliseconds. @default 600000 */
  stateTtlMs?: number | undefined;
}

/** The M2M token route. */
export interface M2mOptions {
  /** The service user's key file (path, JSON text or object): JWT bearer grant. */
  keyFile: KeyFileInput;
  /** The services allowed to ask, with the SHA-256 of their secrets. At least one. */
  clients: readonly M2mClient[];
  /**
   * Wrong secrets a client may send before it is locked out, counted across replicas
   * when the store is Redis. @default 10
   */
  maxFailures?: number | undefined;
  /** How long the failures are counted and a locked-out client waits, in milliseconds. @default 900000 */
  lockoutMs?: number | undefined;
}

/** Abuse limits per client address and fixed window. */
export interface RateLimitOptions {
  /** Window length, in milliseconds. @default 60000 */
  windowMs?: number | undefined;
  /** Requests to login, callback and logout per window. @default 30 */
  login?: number | undefined;
  /** Requests to the M2M token route per window. @default 60 */
  token?: number | undefined;
}

/** Options of `createGateway`. */
export interface GatewayOptions extends BrowserOptionsInput {
  /** The ZITADEL issuer, e.g. `https://acme.zitadel.cloud` (https; http only for loopback). */
  issuer: string;
  /** The project whose tokens are accepted (`aud`) and whose roles are read. */
  projectId: string;
  /** The gateway's external base URL; the callback is `${publicUrl}/api/v1/callback`. */
  publicUrl: string;
  /** Origins of the web apps that may receive tokens and call `/validate` and `/userinfo` from a browser. */
  allowedOrigins: readonly string[];
  /**
   * Pages a login or logout may return to: exact URLs (`https://app.example.com/done`) or
   * path prefixes (`https://app.example.com/app/*`), on allowed origins. The first is the
   * default. @default the root page (`/`) of each allowed origin
   */
  returnTo?: readonly string[] | undefined;
  /** Browser login; without it the login routes answer 400. */
  login?: LoginOptions | undefined;
  /**
   * Key material of the gateway's cookies (base64 of at least 32 random bytes, or the
   * bytes): it seals pending logins. Every replica needs the same one. Required with
   * `login` and an https `publicUrl`; otherwise a random one per process is made (with a
   * warning when login is configured).
   */
  cookieSecret?: string | Uint8Array | undefined;
  /** API application credentials to introspect opaque tokens on `/validate`. */
  introspection?: IntrospectionAuth | undefined;
  /** M2M tokens; without it `/m2m/token` answers 501. */
  m2m?: M2mOptions | undefined;
  rateLimit?: RateLimitOptions | undefined;
  /**
   * Redis (or Valkey) shared by every replica: sessions, one-time codes, rate-limit
   * counters and lockouts. Without it (and without `store`) state is kept in this
   * process. Keys get the prefix `zitauth-gateway:` unless `keyPrefix` says otherwise.
   */
  redis?: RedisStoreOptions | undefined;
  /** A store of your own instead (its owner closes it); excludes `redis`. @default in memory */
  store?: GatewayStore | undefined;
  /**
   * Whose `X-Forwarded-For` sets the client address (rate limits, logs): the number of
   * proxies in front of the gateway, or their addresses/CIDRs (also `loopback`,
   * `linklocal`, `uniquelocal`). `true` is refused: it would let every client pick its
   * address. @default false
   */
  trustProxy?: false | number | string | readonly string[] | undefined;
  /** Logging; `false` turns it off. @default { level: 'info' } */
  logger?: LogOptions | false | undefined;
  /** Time limit of each IdP call, in milliseconds. @default 5000 */
  timeoutMs?: number | undefined;
  /** How long a readiness result is reused, in milliseconds. @default 2000 */
  readinessCacheMs?: number | undefined;
  /** fetch for every IdP call. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
}

/** A configuration mistake; `option` names it. */
export class GatewayConfigError extends TypeError {
  override name = 'GatewayConfigError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`zitauth gateway: ${option}: ${message}`);
  }
}

/** The options with defaults applied and values checked. */
export interface ResolvedOptions
  extends Omit<GatewayOptions, keyof ResolvedBrowserOptions>, ResolvedBrowserOptions {
  publicUrl: string;
  allowedOrigins: string[];
  secureCookies: boolean;
  timeoutMs: number;
  readinessCacheMs: number;
  rateLimit: Required<{ [K in keyof RateLimitOptions]: number }>;
  trustProxy: false | number | string[];
  /** The return-page allowlist, parsed. */
  returnRules: ReturnRule[];
  /** The cookie secret's bytes (random when none was given over http). */
  cookieKey: Uint8Array;
  /** True when `cookieKey` was made up for this process. */
  cookieKeyIsEphemeral: boolean;
}

function positive(value: number | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new GatewayConfigError(option, 'must be a number greater than 0');
  }
  return value;
}

function nonEmpty(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new GatewayConfigError(option, 'is required');
  }
  return value;
}

function resolvePublicUrl(value: unknown): string {
  const text = nonEmpty(value, 'publicUrl');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(
      'publicUrl',
      'must be an absolute URL such as https://auth.example.com',
    );
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new GatewayConfigError('publicUrl', 'must be an http(s) URL without query or fragment');
  }
  return url.href.replace(/\/$/, '');
}

function resolveOrigins(value: readonly string[] | undefined): string[] {
  if (!Array.isArray(value))
    throw new GatewayConfigError('allowedOrigins', 'must be a list of origins');
  return value.map((origin) => {
    try {
      return parseOrigin(origin);
    } catch (error) {
      throw new GatewayConfigError('allowedOrigins', (error as Error).message);
    }
  });
}

function checkM2m(m2m: M2mOptions | undefined): void {
  if (m2m === undefined) return;
  if (m2m.keyFile === undefined) throw new GatewayConfigError('m2m.keyFile', 'is required');
  if (!Array.isArray(m2m.clients) || m2m.clients.length === 0) {
    throw new GatewayConfigError('m2m.clients', 'needs at least one client (id and secret hash)');
  }
  for (const client of m2m.clients) {
    try {
      checkM2mClient(client);
    } catch (error) {
      throw new GatewayConfigError('m2m.clients', (error as Error).message);
    }
  }
  positive(m2m.maxFailures, 'm2m.maxFailures', 10);
  positive(m2m.lockoutMs, 'm2m.lockoutMs', 900_000);
}

function resolveCookieKey(
  secret: GatewayOptions['cookieSecret'],
  required: boolean,
): { cookieKey: Uint8Array; cookieKeyIsEphemeral: boolean } {
  if (secret === undefined) {
    if (required) {
      throw new GatewayConfigError(
        'cookieSecret',
        `is required for an https gateway; ${COOKIE_SECRET_HINT}`,
      );
    }
    return { cookieKey: new Uint8Array(randomBytes(32)), cookieKeyIsEphemeral: true };
  }
  try {
    const cookieKey =
      typeof secret === 'string'
        ? parseCookieSecret(secret)
        : parseCookieSecret(Buffer.from(secret).toString('base64'));
    return { cookieKey, cookieKeyIsEphemeral: false };
  } catch (error) {
    throw new GatewayConfigError('cookieSecret', (error as Error).message);
  }
}

function resolveReturnRules(
  entries: readonly string[] | undefined,
  allowedOrigins: readonly string[],
): ReturnRule[] {
  if (entries === undefined) return defaultReturnRules(allowedOrigins);
  if (!Array.isArray(entries)) throw new GatewayConfigError('returnTo', 'must be a list of pages');
  return entries.map((entry) => {
    try {
      return parseReturnRule(String(entry), allowedOrigins);
    } catch (error) {
      throw new GatewayConfigError('returnTo', (error as Error).message);
    }
  });
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR or one of proxy-addr's range names; false otherwise. */
export function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', bits, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

/** What to say when `trustProxy` is wrong. */
export const TRUST_PROXY_HINT =
  'set the number of proxies in front of the gateway (e.g. 1) or their addresses/CIDRs separated by commas (e.g. 10.0.0.0/8,127.0.0.1)';

function resolveTrustProxy(value: unknown): false | number | string[] {
  if (value === undefined || value === false) return false;
  if (value === true) {
    throw new GatewayConfigError(
      'trustProxy',
      `true would let any client choose its address through X-Forwarded-For; ${TRUST_PROXY_HINT}`,
    );
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 20) {
      throw new GatewayConfigError('trustProxy', `a hop count must be a whole number from 0 to 20`);
    }
    return value === 0 ? false : value;
  }
  const list = typeof value === 'string' ? value.split(',') : (value as readonly string[]);
  if (!Array.isArray(list)) throw new GatewayConfigError('trustProxy', TRUST_PROXY_HINT);
  const entries = list.map((entry) => String(entry).trim());
  const wrong = entries.find((entry) => !isProxyAddress(entry));
  if (wrong !== undefined) {
    throw new GatewayConfigError(
      'trustProxy',
      `"${wrong.slice(0, 50)}" is not an address or CIDR; ${TRUST_PROXY_HINT}`,
    );
  }
  return entries;
}

/** Checks the options and fills in defaults; throws `GatewayConfigError`. */
export function resolveOptions(options: GatewayOptions): ResolvedOptions {
  nonEmpty(options.projectId, 'projectId');
  const publicUrl = resolvePublicUrl(options.publicUrl);
  const allowedOrigins = resolveOrigins(options.allowedOrigins);
  if (options.login !== undefined) {
    nonEmpty(options.login.clientId, 'login.clientId');
    if (allowedOrigins.length === 0) {
      throw new GatewayConfigError(
        'allowedOrigins',
        'login needs at least one origin to return to',
      );
    }
  }
  checkM2m(options.m2m);
  if (options.redis !== undefined && options.store !== undefined) {
    throw new GatewayConfigError('store', 'set either store or redis, not both');
  }
  const limits = options.rateLimit ?? {};
  const secureCookies = publicUrl.startsWith('https:');
  const fail = (option: string, message: string) => new GatewayConfigError(option, message);
  return {
    ...options,
    publicUrl,
    allowedOrigins,
    secureCookies,
    trustProxy: resolveTrustProxy(options.trustProxy),
    returnRules: resolveReturnRules(options.returnTo, allowedOrigins),
    // Over https the gateway is deployed, and a per-process key would break every login
    // that reaches another replica or outlives a restart.
    ...resolveCookieKey(options.cookieSecret, secureCookies && options.login !== undefined),
    ...resolveBrowserOptions(options, secureCookies, fail),
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', 5000),
    readinessCacheMs: options.readinessCacheMs ?? 2000,
    rateLimit: {
      windowMs: positive(limits.windowMs, 'rateLimit.windowMs', 60_000),
      login: positive(limits.login, 'rateLimit.login', 30),
      token: positive(limits.token, 'rateLimit.token', 60),
    },
  };
}
