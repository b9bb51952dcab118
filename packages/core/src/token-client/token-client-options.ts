/**
 * The options of the token client and their checks. Everything is validated when the
 * client is built, with messages that say what to fix: a service that cannot get tokens
 * should fail at start-up, not on its first request hours later. Credentials are counted,
 * not guessed: exactly one of a service-user key file, a client id/secret pair or a
 * personal access token. Fields accept `undefined` so configs read from the environment
 * type-check under `exactOptionalPropertyTypes`.
 */
import { createDpopSigner, type DpopSigner, type TokenClientDpopOptions } from './dpop-client.js';
import { ZitauthConfigError } from '../errors.js';
import type { FetchLike } from '../idp/http.js';
import { checkIdpUrl, resolveOrigins } from '../idp/idp-url.js';
import { loadKeyFile, type KeyFileInput, type LoadedKey } from '../idp/key-file.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import { resolveRetryPolicy, type RetryOptions, type RetryPolicy } from '../idp/retry.js';
import type { GrantCredential } from './token-grant.js';
import { buildScope } from './token-scopes.js';

/** Options of `createTokenClient`. Give exactly one credential. */
export interface TokenClientOptions {
  /** The IdP's issuer URL, exactly as in its discovery document, e.g. `https://acme.zitadel.cloud`. */
  issuer: string;
  /** A service-user key file (path, JSON text or parsed object): the JWT bearer grant. Recommended. */
  keyFile?: KeyFileInput | undefined;
  /** The service user's client id, for the client credentials grant (with `clientSecret`). */
  clientId?: string | undefined;
  /** The service user's client secret, for the client credentials grant. */
  clientSecret?: string | undefined;
  /** A personal access token, used as is: no token request is ever made. */
  personalAccessToken?: string | undefined;
  /** Projects whose APIs the token is for: each adds its audience scope. @default [] */
  projectIds?: readonly string[] | undefined;
  /** Ask for the service user's project roles. @default true when projectIds is not empty */
  roles?: boolean | undefined;
  /** Add ZITADEL's own API to the audience. @default false */
  zitadelApi?: boolean | undefined;
  /** Extra scopes, after the generated ones (`openid` always comes first). @default [] */
  scopes?: readonly string[] | undefined;
  /**
   * Extra form fields of every token request, for IdPs that name the API there rather
   * than in a scope: `{ resource: 'https://api.example.com' }` (RFC 8707) or
   * `{ audience: '…' }` (Auth0). They cannot replace the grant, scope or credentials.
   * @default {}
   */
  tokenParams?: Readonly<Record<string, string>> | undefined;
  /**
   * Get a new token this long before the current one expires, in milliseconds; for
   * tokens living less than twice this, half their lifetime is used. @default 60000
   */
  refreshMarginMs?: number | undefined;
  /** Retries of token requests that failed for passing reasons (network, timeout, 5xx, 429). */
  retry?: RetryOptions | undefined;
  /** Time limit of each IdP call, in milliseconds. @default 5000 */
  timeoutMs?: number | undefined;
  /** The fetch implementation, for IdP calls and `client.fetch`. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** Clock in epoch milliseconds (token expiry and assertion `iat`). @default Date.now */
  now?: (() => number) | undefined;
  /** The token endpoint; skips discovery. For ZITADEL: `${issuer}/oauth/v2/token`. */
  tokenEndpoint?: string | undefined;
  /**
   * DPoP (RFC 9449): send a proof signed with this key with every token request, so the
   * IdP binds the token to the key, and with every `client.fetch` of a DPoP token. Server
   * nonces are followed (one retry). Not with a personal access token. @default off
   */
  dpop?: TokenClientDpopOptions | undefined;
  /**
   * Origins besides the issuer's that a discovered token endpoint may be on. By default it
   * must be https on the issuer's own origin (http on loopback), so a tampered discovery
   * document cannot collect the client's credentials. @default [] (the issuer's origin only)
   */
  endpointOrigins?: readonly string[] | undefined;
}

/** Every key `createTokenClient` reads; any other is refused as a likely typo. */
const TOKEN_CLIENT_KEYS = optionKeys<TokenClientOptions>({
  issuer: true,
  keyFile: true,
  clientId: true,
  clientSecret: true,
  personalAccessToken: true,
  projectIds: true,
  roles: true,
  zitadelApi: true,
  scopes: true,
  tokenParams: true,
  refreshMarginMs: true,
  retry: true,
  timeoutMs: true,
  fetch: true,
  now: true,
  tokenEndpoint: true,
  dpop: true,
  endpointOrigins: true,
});

const RETRY_KEYS = optionKeys<RetryOptions>({
  attempts: true,
  baseDelayMs: true,
  maxDelayMs: true,
});

/** The credential to use: a grant, or a personal access token used as is. */
export type ClientCredential = GrantCredential | { kind: 'pat'; token: string };

/** Everything the client needs, checked and with defaults applied. */
export interface ClientConfig {
  issuer: string;
  scope: string;
  tokenParams: Readonly<Record<string, string>>;
  refreshMarginMs: number;
  retry: RetryPolicy;
  now: () => number;
  fetch: FetchLike | undefined;
  timeoutMs: number | undefined;
  tokenEndpoint: string | undefined;
  /** Signs DPoP proofs, when on. */
  dpop: DpopSigner | undefined;
  endpointOrigins: readonly string[];
}

function configError(message: string): ZitauthConfigError {
  return new ZitauthConfigError(`zitauth: createTokenClient: ${message}`);
}

const CREDENTIALS_HELP =
  'keyFile (a service-user key file, recommended), clientId with clientSecret, or personalAccessToken';

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw configError(`${name} must be a non-empty string`);
  }
  return value;
}

/** Picks the one credential given; throws when there is none, several, or half of one. */
function resolveCredential(options: TokenClientOptions): ClientCredential {
  const given = [
    options.keyFile !== undefined && 'keyFile',
    (options.clientId !== undefined || options.clientSecret !== undefined) &&
      'clientId/clientSecret',
    options.personalAccessToken !== undefined && 'personalAccessToken',
  ].filter((name): name is string => name !== false);
  if (given.length === 0) throw configError(`no credential given; pass one of ${CREDENTIALS_HELP}`);
  if (given.length > 1) {
    throw configError(`pass exactly one credential, got ${given.join(' and ')}`);
  }
  if (options.keyFile !== undefined)
    return { kind: 'jwt-bearer', key: loadServiceUserKey(options.keyFile) };
  if (options.personalAccessToken !== undefined) {
    const token = nonEmptyString(options.personalAccessToken, 'personalAccessToken');
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw configError('personalAccessToken contains spaces or line breaks; copy the token alone');
    }
    return { kind: 'pat', token };
  }
  if (options.clientId === undefined || options.clientSecret === undefined) {
    throw configError(
      "clientId and clientSecret go together (the service user's client id and generated secret)",
    );
  }
  const clientId = nonEmptyString(options.clientId, 'clientId');
  return {
    kind: 'client-credentials',
    clientId,
    clientSecret: nonEmptyString(options.clientSecret, 'clientSecret'),
  };
}

function loadServiceUserKey(input: KeyFileInput): LoadedKey {
  const key = loadKeyFile(input, undefined, 'keyFile');
  if (key.type !== 'serviceaccount') {
    throw new ZitauthConfigError(
      'zitauth: keyFile is an application key ("type": "application"); the JWT bearer grant needs a ' +
        'service-user key ("type": "serviceaccount"): in the ZITADEL console open the service user, ' +
        'Keys, New, JSON. Application keys authenticate an API app for introspection.',
      'ERR_ZITAUTH_INVALID_KEY_FILE',
    );
  }
  return key;
}

function optionalMs(value: unknown, name: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw configError(`${name} must be a finite number of milliseconds ${allowZero ? '≥' : '>'} 0`);
  }
  return value;
}

function optionalFunction<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw configError(`${name} must be a function`);
  }
  return value;
}

// The grant, the scope and the credentials are built here; a stray field must not change them.
const RESERVED_TOKEN_PARAMS = new Set([
  'grant_type',
  'scope',
  'assertion',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]);

function checkTokenParams(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(
      'tokenParams must be an object of strings, e.g. { resource: "https://api.example.com" }',
    );
  }
  for (const [name, field] of Object.entries(value)) {
    if (RESERVED_TOKEN_PARAMS.has(name)) {
      throw configError(`tokenParams cannot set ${name}; use the credential and scope options`);
    }
    if (typeof field !== 'string') throw configError(`tokenParams.${name} must be a string`);
  }
  return { ...(value as Record<string, string>) };
}

function optionalRetry(value: unknown): RetryOptions | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw configError('retry must be an object, e.g. { attempts: 3, baseDelayMs: 200 }');
  }
  return value as RetryOptions | undefined;
}

function resolveConfig(options: TokenClientOptions, issuer: string): ClientConfig {
  const now = optionalFunction(options.now, 'now') ?? Date.now;
  return {
    issuer,
    scope: buildScope(options),
    tokenParams: checkTokenParams(options.tokenParams),
    refreshMarginMs: optionalMs(options.refreshMarginMs, 'refreshMarginMs', true) ?? 60_000,
    retry: resolveRetryPolicy(optionalRetry(options.retry)),
    now,
    fetch: optionalFunction(options.fetch, 'fetch'),
    timeoutMs: optionalMs(options.timeoutMs, 'timeoutMs', false),
    tokenEndpoint:
      options.tokenEndpoint === undefined
        ? undefined
        : checkIdpUrl(options.tokenEndpoint, 'tokenEndpoint'),
    dpop: options.dpop === undefined ? undefined : createDpopSigner(options.dpop, now),
    endpointOrigins: resolveOrigins(options.endpointOrigins, false),
  };
}

/** Checks every option; throws `ZitauthConfigError` naming the one to fix. */
export function resolveTokenClientOptions(options: TokenClientOptions): {
  credential: ClientCredential;
  config: ClientConfig;
} {
  if (typeof options !== 'object' || options === null) {
    throw configError(`options are required: an issuer and one of ${CREDENTIALS_HELP}`);
  }
  checkOptionKeys(options, TOKEN_CLIENT_KEYS, 'createTokenClient options');
  checkOptionKeys(options.retry, RETRY_KEYS, 'createTokenClient retry');
  const issuer = checkIdpUrl(options.issuer, 'issuer');
  const credential = resolveCredential(options);
  if (credential.kind === 'pat' && options.dpop !== undefined) {
    throw configError(
      'dpop needs a grant (keyFile or clientId): a personal access token is not bound to a key',
    );
  }
  // Checked for a personal access token too, so switching credentials never hides a typo.
  return { credential, config: resolveConfig(options, issuer) };
}
