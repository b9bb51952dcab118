/**
 * One M2M token request and its response, in the `xxxRequest` / `processXxxResponse`
 * shape of oauth4webapi. The exchange itself is small, but it goes through core's
 * `idpFetch` (timeout, no redirects, body cap, abort on close, outages as
 * `UpstreamError`) like every other IdP call, instead of oauth4webapi's own fetch path
 * and error types. A refusal by the IdP (4xx) becomes `TokenRequestError` with the IdP's
 * OAuth error code; the assertion, the client secret and the issued token never appear
 * in a message: IdP texts are filtered and any credential echoed back is redacted.
 */
import { basicAuthorization, signAssertion } from '../idp/client-auth.js';
import {
  UpstreamError,
  ZitauthError,
  type ErrorBody,
  type UpstreamErrorOptions,
} from '../errors.js';
import { parseJsonObject, type IdpResponse } from '../idp/http.js';
import type { LoadedKey } from '../idp/key-file.js';

/** How the client proves who it is at the token endpoint. */
export type GrantCredential =
  | { kind: 'jwt-bearer'; key: LoadedKey }
  | { kind: 'client-credentials'; clientId: string; clientSecret: string };

/** An access token as the client keeps it. */
export interface TokenResponse {
  /** The access token (a JWT or an opaque string). */
  accessToken: string;
  /** When it stops being valid, from `expires_in` counted from when the request was sent. */
  expiresAt: Date;
  /** The granted scope, if the IdP said. */
  scope: string | undefined;
  /** `token_type`: `Bearer`, or `DPoP` for a token bound to the client's DPoP key. */
  tokenType: string;
}

/** A ready-to-send token request and the credentials it carries (for redaction). */
export interface GrantRequest {
  init: RequestInit;
  secrets: string[];
}

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Builds the POST for the JWT bearer grant (RFC 7523 §2.1: a fresh assertion signed with
 * the service-user key, `aud` = issuer) or client credentials (RFC 6749 §4.4, Basic).
 */
export async function tokenRequest(
  credential: GrantCredential,
  issuer: string,
  scope: string,
  nowMs: number,
  params: Readonly<Record<string, string>> = {},
): Promise<GrantRequest> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
  };
  // Extra fields first: the grant's own fields are set after them and always win.
  const form = new URLSearchParams(params);
  if (credential.kind === 'jwt-bearer') {
    const assertion = await signAssertion(credential.key, issuer, nowMs);
    form.set('grant_type', JWT_BEARER_GRANT);
    form.set('assertion', assertion);
    form.set('scope', scope);
    return { init: { method: 'POST', headers, body: form.toString() }, secrets: [assertion] };
  }
  headers['authorization'] = basicAuthorization(credential.clientId, credential.clientSecret);
  form.set('grant_type', 'client_credentials');
  form.set('scope', scope);
  const secrets = [credential.clientSecret, headers['authorization']];
  return { init: { method: 'POST', headers, body: form.toString() }, secrets };
}

/** What {@link TokenRequestError} reports about the IdP's refusal. */
export interface TokenRequestErrorDetails {
  /** The HTTP status of the token endpoint's answer. */
  httpStatus: number;
  /** The IdP's OAuth `error`, e.g. `invalid_grant`, if it sent one. */
  oauthError: string | undefined;
  /** The IdP's `error_description`, filtered and with credentials redacted. */
  oauthErrorDescription: string | undefined;
  /** A hint at the usual cause, appended to the message. */
  hint?: string;
}

/**
 * The IdP refused the token request (HTTP 4xx: `invalid_grant`, `invalid_client`,
 * `invalid_scope`, `unauthorized_client`, …). Not retried: the same request would be
 * refused again. If it reaches an HTTP response it answers 502 with a generic body.
 */
export class TokenRequestError extends ZitauthError {
  override name = 'TokenRequestError';
  override readonly expose = false;
  /** The HTTP status of the token endpoint's answer. */
  readonly httpStatus: number;
  /** The IdP's OAuth `error`, e.g. `invalid_grant`. */
  readonly oauthError: string | undefined;
  /** The IdP's `error_description`, filtered and with credentials redacted. */
  readonly oauthErrorDescription: string | undefined;

  constructor(details: TokenRequestErrorDetails) {
    super('ERR_ZITAUTH_TOKEN_REQUEST', 502, undefined);
    this.httpStatus = details.httpStatus;
    this.oauthError = details.oauthError;
    this.oauthErrorDescription = details.oauthErrorDescription;
    // This is not about the caller's credentials: no challenge asking them to log in.
    delete this.headers['WWW-Authenticate'];
    const reason = [`HTTP ${details.httpStatus}`, details.oauthError].filter(Boolean).join(' ');
    this.message = `${this.message} (${reason})${details.hint === undefined ? '' : `: ${details.hint}`}`;
  }

  override get body(): ErrorBody {
    return { error: 'server_error', error_description: 'The token request was refused' };
  }
}

/**
 * 503: the token client could not get a token (the IdP is unreachable, timed out or
 * answered nonsense). An `UpstreamError` with the same codes, whose message speaks of
 * getting a token: the generic one speaks of checking one, which misleads whoever reads
 * a client's log.
 */
export class TokenUnavailableError extends UpstreamError {
  override name = 'TokenUnavailableError';
  constructor(
    code: 'ERR_ZITAUTH_UPSTREAM' | 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' = 'ERR_ZITAUTH_UPSTREAM',
    options: UpstreamErrorOptions = {},
  ) {
    super(code, options);
    this.message = 'No access token could be obtained from the identity provider; try again later';
  }
}

// RFC 6749 §5.2 allows only these characters in `error` and `error_description`; anything
// else (newlines, quotes, markup) is dropped before the text is kept anywhere.
function wireText(
  value: unknown,
  maxLength: number,
  secrets: readonly string[],
): string | undefined {
  if (typeof value !== 'string') return undefined;
  const redacted = secrets
    .filter((secret) => secret.length > 0)
    .reduce((text, secret) => text.split(secret).join('[redacted]'), value);
  const clean = redacted.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, maxLength);
  return clean === '' ? undefined : clean;
}

const HINTS: Record<string, string> = {
  invalid_grant:
    'the assertion was not accepted; check that the key file belongs to an existing service user, that its key was not deleted or expired, and that this machine clock is right',
  invalid_client:
    'check clientId and clientSecret (the service user must have a client secret generated)',
  unauthorized_client: 'the service user may not use this grant type',
  invalid_scope:
    'check projectIds and scopes (the project must exist in the service user organisation)',
};

/** Turns a 4xx answer of the token endpoint into a {@link TokenRequestError}. */
export function tokenRequestError(
  response: IdpResponse,
  secrets: readonly string[],
): TokenRequestError {
  let body: Record<string, unknown> = {};
  try {
    body = parseJsonObject(response.body);
  } catch {
    // A 4xx without an OAuth error body still is a refusal; only the status is known.
  }
  const oauthError = wireText(body['error'], 64, secrets);
  const hint = oauthError === undefined ? undefined : HINTS[oauthError];
  return new TokenRequestError({
    httpStatus: response.status,
    oauthError,
    oauthErrorDescription: wireText(body['error_description'], 300, secrets),
    ...(hint === undefined ? {} : { hint }),
  });
}

function malformed(reason: string): UpstreamError {
  return new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
    cause: new Error(`the token endpoint answered ${reason}`),
  });
}

// An access token goes into an HTTP header: visible ASCII only (RFC 6750 §2.1 b64token
// is stricter, but opaque ZITADEL tokens and JWTs both fit this).
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * Checks a 200 answer: `access_token` present and header-safe, `expires_in` a positive
 * number, `token_type` Bearer (assumed when missing), or DPoP when the request carried a
 * proof (`dpop`). `sentAtMs` is when the request left, so the computed expiry errs on
 * the early side.
 */
export function processTokenResponse(
  response: IdpResponse,
  sentAtMs: number,
  dpop = false,
): TokenResponse {
  if (response.status !== 200) throw malformed(`HTTP ${response.status}`);
  const body = parseJsonObject(response.body);
  const { access_token: accessToken, expires_in: expiresIn, scope } = body;
  const tokenType = body['token_type'] ?? 'Bearer';
  if (typeof accessToken !== 'string' || !HEADER_SAFE.test(accessToken)) {
    throw malformed('without a usable access_token');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw malformed('without a positive expires_in');
  }
  const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : undefined;
  if (type !== 'bearer' && !(dpop && type === 'dpop')) {
    throw malformed(`a token type other than Bearer${dpop ? ' or DPoP' : ''}`);
  }
  return {
    accessToken,
    expiresAt: new Date(sentAtMs + expiresIn * 1000),
    scope: typeof scope === 'string' ? scope : undefined,
    tokenType: tokenType as string,
  };
}
