/**
 * Step 1 of the pipeline: find the one bearer token of a request (RFC 6750 §2). The
 * header is the only transport by default; query and form body are opt-in because they
 * leak into logs and caches. Two credentials are a malformed request (§2: a client MUST
 * NOT use more than one method), and an oversized token is refused before any decoding
 * so a hostile client cannot make us parse megabytes.
 */
import { InvalidRequestError, InvalidTokenError, type ZitauthErrorOptions } from '../errors.js';
import type { TokenRequest, TokenTransport } from '../types.js';

/**
 * `Bearer` (any case) followed by whitespace or nothing; then spaces (RFC 7235: SP only)
 * and the credential. Tested, not matched: `exec`'s match array was the largest
 * allocation of a cached request.
 */
const BEARER_SCHEME = /^Bearer(?=\s|$)/i;
/** `DPoP` (RFC 9449 §7.1), the same way; recognised only when DPoP is on. */
const DPOP_SCHEME = /^DPoP(?=\s|$)/i;

/** RFC 6750 §2.1 `b64token`, the only token syntax any transport may carry. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Where the credential starts: after `scheme` (of `length` characters) and the spaces
 * that follow it; -1 when `value` does not start with that scheme.
 */
function afterScheme(value: string, scheme: RegExp, length: number): number {
  if (!scheme.test(value)) return -1;
  let start = length;
  while (value.charCodeAt(start) === 0x20) start += 1;
  return start;
}

/** Options of {@link extractToken}. */
export interface ExtractOptions {
  transport: TokenTransport;
  maxTokenBytes: number;
  errors: ZitauthErrorOptions;
  /** Take `Authorization: DPoP` credentials too; otherwise that scheme is not ours. */
  dpop?: boolean;
}

/** A request's token and the scheme it came with (the query and body are `Bearer`). */
export interface Credential {
  token: string;
  scheme: 'Bearer' | 'DPoP';
}

/** Shared by every request without a value, so a request costs no empty arrays. */
const NONE: readonly string[] = Object.freeze([]);

function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return NONE;
  return typeof value === 'string' ? [value] : value;
}

/**
 * The bearer credential of the `Authorization` header: `undefined` when there is none
 * (another scheme such as Basic is not ours to judge, and `Bearer` alone carries
 * nothing), else everything after the scheme, checked later like any other token, so
 * extra words or JSON are a bad token (401), not a bad request. Two headers are a
 * malformed request, whatever they hold.
 */
function fromHeaders(
  values: string | readonly string[] | undefined,
  options: ExtractOptions,
): string | undefined {
  // A single header arrives as a string: no array is built for it.
  if (typeof values !== 'string' && values !== undefined && values.length > 1) {
    throw new InvalidRequestError('ERR_ZITAUTH_MULTIPLE_TOKENS', options.errors);
  }
  const value = typeof values === 'string' ? values : values?.[0];
  if (value === undefined) return undefined;
  let start = afterScheme(value, BEARER_SCHEME, 'Bearer'.length);
  lastScheme = 'Bearer';
  if (start < 0 && options.dpop === true) {
    start = afterScheme(value, DPOP_SCHEME, 'DPoP'.length);
    lastScheme = 'DPoP';
  }
  if (start < 0) return undefined;
  const credential = value.slice(start);
  return credential.trim() === '' ? undefined : credential.trimEnd();
}

/** The scheme of the header `fromHeaders` read last (synchronous, so never interleaved). */
let lastScheme: Credential['scheme'] = 'Bearer';

/**
 * The query or body token, if that transport is on. Whether on or not, a request using
 * two methods is malformed (RFC 6750 §2: a client MUST NOT use more than one), so the
 * count covers every transport the request used.
 */
function fromOtherTransports(
  request: TokenRequest,
  header: boolean,
  options: ExtractOptions,
): string | undefined {
  const query = asList(request.query);
  const body = asList(request.body);
  const methods = Number(header) + Number(query.length > 0) + Number(body.length > 0);
  if (methods > 1 || query.length > 1 || body.length > 1) {
    throw new InvalidRequestError('ERR_ZITAUTH_MULTIPLE_TOKENS', options.errors);
  }
  if (options.transport.query === true && query[0] !== undefined) return query[0];
  if (options.transport.body === true && body[0] !== undefined) return body[0];
  return undefined;
}

/**
 * The request's single token as sent, or `undefined` when it carries none, with only the
 * checks that need no look at the token's bytes: two methods, two headers or an empty
 * query or body token are a malformed request (400), and a token longer than the cap in
 * UTF-16 units is certainly over it in bytes (401). {@link checkTokenSyntax} does the rest.
 */
function findToken(request: TokenRequest, options: ExtractOptions): string | undefined {
  const header = fromHeaders(request.authorization, options);
  const other = fromOtherTransports(request, header !== undefined, options);
  const token = header ?? other;
  if (header === undefined) lastScheme = 'Bearer';
  if (token === undefined) return undefined;
  if (token === '') throw new InvalidRequestError('ERR_ZITAUTH_INVALID_REQUEST', options.errors);
  if (token.length > options.maxTokenBytes) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE', options.errors);
  }
  return token;
}

/**
 * Refuses a token over the size cap in bytes or outside RFC 6750's `b64token` syntax
 * (401). A verifier runs it only when its memory does not know the token: a token it has
 * accepted or refused before passed it then, and a cache hit should not pay for a regular
 * expression over a kilobyte.
 */
export function checkTokenSyntax(token: string, options: ExtractOptions): void {
  if (Buffer.byteLength(token, 'utf8') > options.maxTokenBytes) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE', options.errors);
  }
  if (!B64TOKEN.test(token)) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED', options.errors);
  }
}

/**
 * Returns the request's single bearer token, or `undefined` when it carries none.
 * Throws `InvalidRequestError` (400) for a structurally wrong request (two methods, two
 * headers, an empty query or body token) and `InvalidTokenError` (401) for a token that
 * is not a `b64token` or is over the size cap.
 */
export function extractToken(request: TokenRequest, options: ExtractOptions): string | undefined {
  const token = findToken(request, options);
  if (token !== undefined) checkTokenSyntax(token, options);
  return token;
}

/**
 * The request's token with the scheme it came with (`DPoP` only from an
 * `Authorization: DPoP` header when `options.dpop` is on), **before** its syntax check:
 * the caller runs {@link checkTokenSyntax} when its memory does not know the token.
 */
export function extractCredential(
  request: TokenRequest,
  options: ExtractOptions,
): Credential | undefined {
  const token = findToken(request, options);
  return token === undefined ? undefined : { token, scheme: lastScheme };
}
