/**
 * Step 1 of the pipeline: find the one bearer token of a request (RFC 6750 §2). The
 * header is the only transport by default; query and form body are opt-in because they
 * leak into logs and caches. Two credentials are a malformed request (§2: a client MUST
 * NOT use more than one method), and an oversized token is refused before any decoding
 * so a hostile client cannot make us parse megabytes.
 */
import { InvalidRequestError, InvalidTokenError, type ZitauthErrorOptions } from './errors.js';
import type { TokenRequest, TokenTransport } from './types.js';

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, then a token68. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME_ONLY = /^Bearer *$/i;

/** Options of {@link extractToken}. */
export interface ExtractOptions {
  transport: TokenTransport;
  maxTokenBytes: number;
  errors: ZitauthErrorOptions;
}

function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * The token from `Authorization` headers: `undefined` when none is a bearer credential
 * (another scheme such as Basic is not ours to judge), else the token.
 */
function fromHeaders(values: readonly string[], options: ExtractOptions): string[] {
  const tokens: string[] = [];
  for (const value of values) {
    const match = BEARER.exec(value);
    if (match?.[1] !== undefined) tokens.push(match[1]);
    else if (SCHEME_ONLY.test(value) || /^Bearer\s/i.test(value)) {
      throw new InvalidRequestError('ERR_ZITAUTH_INVALID_REQUEST', options.errors);
    }
  }
  if (values.length > 1) {
    throw new InvalidRequestError('ERR_ZITAUTH_MULTIPLE_TOKENS', options.errors);
  }
  return tokens;
}

/**
 * Returns the request's single bearer token, or `undefined` when it carries none.
 * Throws `InvalidRequestError` (400) for malformed or multiple credentials and
 * `InvalidTokenError` (401) for a token over the size cap.
 */
export function extractToken(request: TokenRequest, options: ExtractOptions): string | undefined {
  const tokens = fromHeaders(asList(request.authorization), options);
  if (options.transport.query === true) tokens.push(...asList(request.query));
  if (options.transport.body === true) tokens.push(...asList(request.body));
  if (tokens.length > 1) {
    throw new InvalidRequestError('ERR_ZITAUTH_MULTIPLE_TOKENS', options.errors);
  }
  const token = tokens[0];
  if (token === undefined) return undefined;
  if (token === '') throw new InvalidRequestError('ERR_ZITAUTH_INVALID_REQUEST', options.errors);
  if (Buffer.byteLength(token, 'utf8') > options.maxTokenBytes) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE', options.errors);
  }
  return token;
}
