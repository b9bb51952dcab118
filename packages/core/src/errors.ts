/**
 * One error hierarchy for every adapter. Each HTTP-facing error carries the fields that
 * Express's finalhandler, Koa's `ctx.onerror` and Fastify's default handler read
 * (`status`, `statusCode`, `expose`, `headers`), an RFC 6750 `WWW-Authenticate` challenge
 * and a generic JSON body. Descriptions come from a fixed table: library messages (jose,
 * oauth4webapi) stay in `cause` and never reach a client, and no message ever holds a token.
 */

/** Stable error codes, in the style of jose's `ERR_JWT_EXPIRED`. */
export type ZitauthErrorCode =
  | 'ERR_ZITAUTH_NO_TOKEN'
  | 'ERR_ZITAUTH_INVALID_REQUEST'
  | 'ERR_ZITAUTH_MULTIPLE_TOKENS'
  | 'ERR_ZITAUTH_TOKEN_TOO_LARGE'
  | 'ERR_ZITAUTH_TOKEN_MALFORMED'
  | 'ERR_ZITAUTH_TOKEN_EXPIRED'
  | 'ERR_ZITAUTH_TOKEN_NOT_YET_VALID'
  | 'ERR_ZITAUTH_TOKEN_TOO_OLD'
  | 'ERR_ZITAUTH_TOKEN_LIFETIME'
  | 'ERR_ZITAUTH_SIGNATURE_INVALID'
  | 'ERR_ZITAUTH_ALG_NOT_ALLOWED'
  | 'ERR_ZITAUTH_KEY_NOT_FOUND'
  | 'ERR_ZITAUTH_ISSUER_MISMATCH'
  | 'ERR_ZITAUTH_AUDIENCE_MISMATCH'
  | 'ERR_ZITAUTH_CLIENT_NOT_ALLOWED'
  | 'ERR_ZITAUTH_CLAIM_INVALID'
  | 'ERR_ZITAUTH_ID_TOKEN'
  | 'ERR_ZITAUTH_TOKEN_TYPE'
  | 'ERR_ZITAUTH_TOKEN_INACTIVE'
  | 'ERR_ZITAUTH_INSUFFICIENT_SCOPE'
  | 'ERR_ZITAUTH_UPSTREAM'
  | 'ERR_ZITAUTH_UPSTREAM_TIMEOUT'
  | 'ERR_ZITAUTH_TOKEN_REQUEST'
  | 'ERR_ZITAUTH_DPOP_PROOF_REQUIRED'
  | 'ERR_ZITAUTH_DPOP_PROOF_INVALID'
  | 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED'
  | 'ERR_ZITAUTH_DPOP_NONCE'
  | 'ERR_ZITAUTH_DPOP_KEY_MISMATCH'
  | 'ERR_ZITAUTH_DPOP_REQUIRED'
  | 'ERR_ZITAUTH_INVALID_OPTION'
  | 'ERR_ZITAUTH_INVALID_KEY_FILE'
  | 'ERR_ZITAUTH_MISUSE';

/** The JSON body every HTTP-facing error answers with. */
export interface ErrorBody {
  error: string;
  error_description: string;
}

/** The default realm of the `WWW-Authenticate` challenge. */
export const DEFAULT_REALM = 'api';

const DESCRIPTIONS: Record<ZitauthErrorCode, string> = {
  ERR_ZITAUTH_NO_TOKEN: 'No access token was sent',
  ERR_ZITAUTH_INVALID_REQUEST: 'The request is malformed',
  ERR_ZITAUTH_MULTIPLE_TOKENS: 'More than one access token was sent',
  ERR_ZITAUTH_TOKEN_TOO_LARGE: 'The access token is too large',
  ERR_ZITAUTH_TOKEN_MALFORMED: 'The access token is malformed',
  ERR_ZITAUTH_TOKEN_EXPIRED: 'The access token expired',
  ERR_ZITAUTH_TOKEN_NOT_YET_VALID: 'The access token is not yet valid',
  ERR_ZITAUTH_TOKEN_TOO_OLD: 'The access token is too old',
  ERR_ZITAUTH_TOKEN_LIFETIME: 'The access token lifetime is too long',
  ERR_ZITAUTH_SIGNATURE_INVALID: 'The access token signature is invalid',
  ERR_ZITAUTH_ALG_NOT_ALLOWED: 'The access token algorithm is not allowed',
  ERR_ZITAUTH_KEY_NOT_FOUND: 'The access token signing key is unknown',
  ERR_ZITAUTH_ISSUER_MISMATCH: 'The access token issuer is not trusted',
  ERR_ZITAUTH_AUDIENCE_MISMATCH: 'The access token is not meant for this API',
  ERR_ZITAUTH_CLIENT_NOT_ALLOWED: 'The access token was issued to a client that is not allowed',
  ERR_ZITAUTH_CLAIM_INVALID: 'The access token has an invalid claim',
  ERR_ZITAUTH_ID_TOKEN: 'An ID token is not an access token',
  ERR_ZITAUTH_TOKEN_TYPE: 'The access token type is not accepted',
  ERR_ZITAUTH_TOKEN_INACTIVE: 'The access token is not active',
  ERR_ZITAUTH_INSUFFICIENT_SCOPE: 'The access token does not grant the required permission',
  ERR_ZITAUTH_UPSTREAM: 'The token could not be checked; try again later',
  ERR_ZITAUTH_UPSTREAM_TIMEOUT: 'The token could not be checked; try again later',
  ERR_ZITAUTH_TOKEN_REQUEST: 'The identity provider refused the token request',
  ERR_ZITAUTH_DPOP_PROOF_REQUIRED: 'Exactly one DPoP proof is required',
  ERR_ZITAUTH_DPOP_PROOF_INVALID: 'The DPoP proof is invalid',
  ERR_ZITAUTH_DPOP_PROOF_REPLAYED: 'The DPoP proof was already used',
  ERR_ZITAUTH_DPOP_NONCE: 'The DPoP proof must carry the nonce the server provides',
  ERR_ZITAUTH_DPOP_KEY_MISMATCH: 'The access token is not bound to the DPoP proof key',
  ERR_ZITAUTH_DPOP_REQUIRED: 'The access token must be sent with a DPoP proof',
  ERR_ZITAUTH_INVALID_OPTION: 'Invalid configuration',
  ERR_ZITAUTH_INVALID_KEY_FILE: 'Invalid key file',
  ERR_ZITAUTH_MISUSE: 'Access to this resource is not set up correctly on the server',
};

/** Options shared by every error constructor. */
export interface ZitauthErrorOptions {
  /** The underlying error (kept for logs; never sent to a client). */
  cause?: unknown;
  /** The realm of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string;
  /**
   * The URL of the API's protected resource metadata (RFC 9728 §5.1), sent as the
   * challenge's `resource_metadata` parameter. @default not sent
   */
  resourceMetadata?: string | undefined;
}

/** The parameters every challenge of one API carries besides its error. */
export type ChallengeOptions = Pick<ZitauthErrorOptions, 'realm' | 'resourceMetadata'>;

/**
 * RFC 6750 §3 allows only %x20-21 / %x23-5B / %x5D-7E inside quoted values: drop
 * anything else so a crafted value can never split or inject a header.
 */
function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

/** Builds a `Bearer` challenge from ordered parameters, skipping undefined ones. */
export function bearerChallenge(
  params: Record<string, string | undefined>,
  scheme = 'Bearer',
): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quote(value)}`);
  return parts.length > 0 ? `${scheme} ${parts.join(', ')}` : scheme;
}

/**
 * The challenges of a verifier with DPoP on (RFC 9449 §7.1): the `DPoP` scheme with the
 * accepted `algs`, after a `Bearer` one when bearer tokens are still accepted. The error
 * goes on the scheme the request used; the other challenge names only the realm.
 */
export interface DpopChallenge {
  /** The accepted proof algorithms, space-separated. */
  algs: string;
  /** Whether a `Bearer` challenge is offered too (`allowed` mode). */
  bearer: boolean;
  /** The scheme the request used. */
  used: 'Bearer' | 'DPoP';
}

function renderChallenge(
  params: Record<string, string | undefined>,
  dpop: DpopChallenge | undefined,
): string {
  if (dpop === undefined) return bearerChallenge(params);
  const bare = { realm: params['realm'], resource_metadata: params['resource_metadata'] };
  const onDpop = dpop.used === 'DPoP' || !dpop.bearer;
  const dpopPart = bearerChallenge({ ...(onDpop ? params : bare), algs: dpop.algs }, 'DPoP');
  return dpop.bearer ? `${bearerChallenge(onDpop ? bare : params)}, ${dpopPart}` : dpopPart;
}

/**
 * Challenges already built, by their parameters. A refusal answers with one of a handful
 * of strings (a realm or two times the error codes), so each is sanitised and joined
 * once, not per request. Bounded in case a caller feeds many realms or scope lists.
 */
const challenges = new Map<string, string>();
const MAX_CHALLENGES = 512;

/** One parameter of a cache key: length-prefixed, so no two parameter sets share a key. */
const keyPart = (value: string | undefined): string =>
  value === undefined ? '~' : `${value.length}:${value}`;

/**
 * The cache key of a challenge: its five parameters in order (every challenge object has
 * these keys), then the DPoP settings. Joined by hand: `JSON.stringify` was a fifth of
 * the CPU of a refusal.
 */
function challengeKey(
  params: Record<string, string | undefined>,
  dpop: DpopChallenge | undefined,
): string {
  const key =
    keyPart(params['realm']) +
    keyPart(params['error']) +
    keyPart(params['error_description']) +
    keyPart(params['scope']) +
    keyPart(params['resource_metadata']);
  return dpop === undefined ? key : `${key}|${dpop.used}${dpop.bearer ? '+' : '-'}${dpop.algs}`;
}

function cachedChallenge(
  params: Record<string, string | undefined>,
  dpop?: DpopChallenge | undefined,
): string {
  const key = challengeKey(params, dpop);
  let challenge = challenges.get(key);
  if (challenge === undefined) {
    challenge = renderChallenge(params, dpop);
    if (challenges.size >= MAX_CHALLENGES) challenges.clear();
    challenges.set(key, challenge);
  }
  return challenge;
}

/**
 * Sets a class's `name` on its prototype, where `Error` keeps its own: one shared value
 * instead of a field defined on every instance (a refusal is built per bad request).
 */
function named(errorClass: { prototype: Error }, name: string): void {
  Object.defineProperty(errorClass.prototype, 'name', {
    value: name,
    writable: true,
    configurable: true,
  });
}

/**
 * Client errors (4xx) carry no stack trace. They are the caller's doing, their stack
 * only ever points into zitauth's own pipeline, and capturing it was a fifth of the CPU
 * of a refusal: a flood of bad requests must not cost more than good ones. 5xx errors
 * (an unreachable IdP) keep theirs. Runs as a super() argument, before Error captures.
 */
let savedStackLimit: number | undefined;
// Frozen intrinsics (e.g. a hardened realm) keep the stack: the limit cannot be set there.
const stackLimitWritable =
  Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;

function withoutStack(status: number, message: string): string {
  if (status < 500 && stackLimitWritable) {
    savedStackLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  }
  return message;
}

function restoreStack(status: number): void {
  if (status < 500 && stackLimitWritable) Error.stackTraceLimit = savedStackLimit!;
}

/**
 * Base class: every error zitauth throws at run time is one of these. Its fields are
 * assigned in the constructor (`declare`d, not class fields, which would define each
 * twice), and `name` and `expose` live on the prototype.
 */
export class ZitauthError extends Error {
  static {
    named(this, 'ZitauthError');
    Object.defineProperty(this.prototype, 'expose', {
      value: true,
      writable: true,
      configurable: true,
    });
  }

  /** Stable machine-readable code. */
  declare readonly code: ZitauthErrorCode;
  /** HTTP status the error answers with. */
  declare readonly status: number;
  /** Whether the message may be shown to a client (Koa and http-errors read this). */
  declare readonly expose: boolean;
  /** Headers to send with the response (`WWW-Authenticate`, sometimes `Retry-After`). */
  declare readonly headers: Record<string, string>;
  /** The RFC 6750 / RFC 6749 error code for the body, e.g. `invalid_token`. */
  declare readonly error: string | undefined;

  constructor(
    code: ZitauthErrorCode,
    status: number,
    error: string | undefined,
    options: ZitauthErrorOptions = {},
  ) {
    super(
      withoutStack(status, DESCRIPTIONS[code]),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    restoreStack(status);
    this.code = code;
    this.status = status;
    this.error = error;
    // Every key in its place from the start, so a later `scope` keeps RFC order.
    this.challenge = {
      realm: options.realm ?? DEFAULT_REALM,
      error,
      error_description: error === undefined ? undefined : this.message,
      scope: undefined,
      resource_metadata: options.resourceMetadata,
    };
    this.dpop = undefined;
    this.headers = { 'WWW-Authenticate': cachedChallenge(this.challenge) };
  }

  /** The parameters of the `WWW-Authenticate` challenge, in order. */
  declare protected readonly challenge: Record<string, string | undefined>;

  /**
   * Sets the challenge's realm. Deep steps throw with the default realm; the verifier
   * applies the configured one once, on the way out.
   */
  withRealm(realm: string): this {
    return this.withChallenge({ realm });
  }

  /**
   * Sets the challenge's realm and `resource_metadata` (when given). Like `withRealm`,
   * applied once on the way out; the header is rebuilt only when something changed.
   */
  withChallenge({ realm, resourceMetadata }: ChallengeOptions): this {
    const challenge = this.challenge;
    const newRealm = realm !== undefined && challenge['realm'] !== realm;
    const newMetadata =
      resourceMetadata !== undefined && challenge['resource_metadata'] !== resourceMetadata;
    if (newRealm || newMetadata) {
      if (newRealm) challenge['realm'] = realm;
      if (newMetadata) challenge['resource_metadata'] = resourceMetadata;
      this.headers['WWW-Authenticate'] = cachedChallenge(challenge, this.dpop);
    }
    return this;
  }

  /** The DPoP challenges of the verifier that refused (RFC 9449 §7.1), if DPoP is on. */
  declare protected dpop: DpopChallenge | undefined;

  /** Answers with the `DPoP` challenge (and `Bearer` beside it in `allowed` mode). */
  withDpop(dpop: DpopChallenge): this {
    this.dpop = dpop;
    this.headers['WWW-Authenticate'] = cachedChallenge(this.challenge, dpop);
    return this;
  }

  /** Alias of `status` for Fastify and Node conventions. */
  get statusCode(): number {
    return this.status;
  }

  /** The generic JSON body: `{ error, error_description }`. */
  get body(): ErrorBody {
    return { error: this.error ?? 'unauthorized', error_description: this.message };
  }

  toJSON(): ErrorBody {
    return this.body;
  }
}

/** 400: the request itself is malformed (e.g. two credentials). */
export class InvalidRequestError extends ZitauthError {
  static {
    named(this, 'InvalidRequestError');
  }

  constructor(
    code: ZitauthErrorCode = 'ERR_ZITAUTH_INVALID_REQUEST',
    options?: ZitauthErrorOptions,
  ) {
    super(code, 400, 'invalid_request', options);
  }
}

/** 401: a token was sent but is not acceptable. */
export class InvalidTokenError extends ZitauthError {
  static {
    named(this, 'InvalidTokenError');
  }

  constructor(
    code: ZitauthErrorCode = 'ERR_ZITAUTH_TOKEN_MALFORMED',
    options?: ZitauthErrorOptions,
  ) {
    super(code, 401, 'invalid_token', options);
  }
}

/** 401 with a bare challenge: no credentials were sent (RFC 6750 §3.1). */
export class UnauthorizedError extends ZitauthError {
  static {
    named(this, 'UnauthorizedError');
  }

  constructor(options?: ZitauthErrorOptions) {
    super('ERR_ZITAUTH_NO_TOKEN', 401, undefined, options);
  }
}

/** Options of {@link InsufficientScopeError}. */
export interface InsufficientScopeOptions extends ZitauthErrorOptions {
  /** Scopes the resource needs, sent as the challenge's `scope` parameter. */
  scopes?: readonly string[];
}

/** 403: the token is valid but lacks a role, scope or custom permission. */
export class InsufficientScopeError extends ZitauthError {
  static {
    named(this, 'InsufficientScopeError');
  }

  constructor(options: InsufficientScopeOptions = {}) {
    super('ERR_ZITAUTH_INSUFFICIENT_SCOPE', 403, 'insufficient_scope', options);
    if (options.scopes !== undefined && options.scopes.length > 0) {
      this.challenge['scope'] = options.scopes.join(' ');
      this.headers['WWW-Authenticate'] = cachedChallenge(this.challenge, this.dpop);
    }
  }
}

/** 401 `invalid_dpop_proof` (RFC 9449 §7.1): the DPoP proof is malformed, wrong or replayed. */
export class DpopProofError extends ZitauthError {
  static {
    named(this, 'DpopProofError');
  }

  constructor(
    code:
      | 'ERR_ZITAUTH_DPOP_PROOF_INVALID'
      | 'ERR_ZITAUTH_DPOP_PROOF_REPLAYED' = 'ERR_ZITAUTH_DPOP_PROOF_INVALID',
    options?: ZitauthErrorOptions,
  ) {
    super(code, 401, 'invalid_dpop_proof', options);
  }
}

/**
 * 401 `use_dpop_nonce` (RFC 9449 §9): the proof lacks the current server nonce, which the
 * `DPoP-Nonce` header carries for the client's retry.
 */
export class DpopNonceError extends ZitauthError {
  static {
    named(this, 'DpopNonceError');
  }

  constructor(nonce: string, options?: ZitauthErrorOptions) {
    super('ERR_ZITAUTH_DPOP_NONCE', 401, 'use_dpop_nonce', options);
    this.headers['DPoP-Nonce'] = nonce;
  }
}

/** Options of {@link UpstreamError}. */
export interface UpstreamErrorOptions extends ZitauthErrorOptions {
  /** Seconds the client should wait before retrying. @default 5 */
  retryAfterSeconds?: number;
}

/**
 * 503: the IdP could not be reached, timed out or answered nonsense. Never reported
 * as `invalid_token`: a healthy token must not look bad because the IdP is down.
 */
export class UpstreamError extends ZitauthError {
  static {
    named(this, 'UpstreamError');
  }

  constructor(
    code: 'ERR_ZITAUTH_UPSTREAM' | 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' = 'ERR_ZITAUTH_UPSTREAM',
    options: UpstreamErrorOptions = {},
  ) {
    super(code, 503, undefined, options);
    // Retry-After takes whole non-negative seconds (RFC 9110 §10.2.3): "2.5" or "NaN" is invalid.
    const seconds = options.retryAfterSeconds ?? 5;
    this.headers['Retry-After'] = String(
      Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : 5,
    );
  }

  override get body(): ErrorBody {
    return { error: 'temporarily_unavailable', error_description: this.message };
  }
}

/**
 * 500: zitauth is wired so that it cannot protect the route, e.g. a guard with no
 * authentication before it. Refusing with 401 would blame the caller for the server's
 * mistake. The body is generic and there is no challenge (the caller can do nothing about
 * it); `cause` carries the operator fault that names the fix.
 */
export class MisuseError extends ZitauthError {
  static {
    named(this, 'MisuseError');
  }

  constructor(options: ZitauthErrorOptions = {}) {
    super('ERR_ZITAUTH_MISUSE', 500, 'server_error', options);
    delete this.headers['WWW-Authenticate'];
  }

  /** No challenge to put a realm in. */
  override withRealm(): this {
    return this;
  }
}

/** A configuration mistake, thrown synchronously where the verifier or client is built. */
export class ZitauthConfigError extends TypeError {
  override name = 'ZitauthConfigError';
  readonly code: 'ERR_ZITAUTH_INVALID_OPTION' | 'ERR_ZITAUTH_INVALID_KEY_FILE';
  constructor(
    message: string,
    code:
      'ERR_ZITAUTH_INVALID_OPTION' | 'ERR_ZITAUTH_INVALID_KEY_FILE' = 'ERR_ZITAUTH_INVALID_OPTION',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
  }
}

/** True for any zitauth run-time error. */
export function isZitauthError(value: unknown): value is ZitauthError {
  return value instanceof ZitauthError;
}
