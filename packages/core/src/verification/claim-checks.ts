/**
 * Claim checks shared by both ways a token is verified: the payload of a signed JWT and
 * the answer of an introspection call pass through the same rules, so a token cannot be
 * accepted on one path that the other would refuse. Every failure is an
 * `InvalidTokenError` with a precise code; no claim value ever reaches a message.
 */
import { InvalidTokenError, type ZitauthErrorCode } from '../errors.js';

/** What a token's claims must satisfy. */
export interface ClaimPolicy {
  /** `iss` must equal this exactly (no trailing-slash leniency: the IdP signs one string). */
  issuer: string;
  /** At least one of these must be in `aud`. */
  audiences: readonly string[];
  /** When set, `client_id` (or `azp`) must be one of these. */
  allowedClientIds?: readonly string[] | undefined;
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in milliseconds. */
  clockToleranceMs: number;
  /** When set, `iat` is required and may be at most this old, in milliseconds. */
  maxTokenAgeMs?: number | undefined;
}

function fail(code: ZitauthErrorCode): never {
  throw new InvalidTokenError(code);
}

/**
 * A NumericDate claim in milliseconds, or undefined when absent. Anything but a finite
 * number is refused: `"exp": "never"` or `1e400` (parsed as Infinity) must not turn
 * into a token that never expires.
 */
function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('ERR_ZITAUTH_CLAIM_INVALID');
  return value * 1000;
}

/** `exp`, `nbf`, `iat` and the maximum token age against `nowMs`, with tolerance. */
function checkTimes(claims: Record<string, unknown>, policy: ClaimPolicy, nowMs: number): void {
  const tolerance = policy.clockToleranceMs;
  const exp = numericDate(claims, 'exp');
  if (exp === undefined) fail('ERR_ZITAUTH_CLAIM_INVALID');
  if (nowMs - tolerance >= exp) fail('ERR_ZITAUTH_TOKEN_EXPIRED');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > nowMs + tolerance) fail('ERR_ZITAUTH_TOKEN_NOT_YET_VALID');
  const iat = numericDate(claims, 'iat');
  if (iat !== undefined && iat > nowMs + tolerance) fail('ERR_ZITAUTH_TOKEN_NOT_YET_VALID');
  // An empty validity window is a broken or crafted token, even within the tolerance.
  if (nbf !== undefined && nbf > exp) fail('ERR_ZITAUTH_CLAIM_INVALID');
  if (policy.maxTokenAgeMs !== undefined) {
    if (iat === undefined) fail('ERR_ZITAUTH_CLAIM_INVALID');
    if (nowMs - tolerance - iat > policy.maxTokenAgeMs) fail('ERR_ZITAUTH_TOKEN_TOO_OLD');
  }
}

/** `aud` (a string or an array of strings) must name one of the accepted audiences. */
function checkAudience(claims: Record<string, unknown>, audiences: readonly string[]): void {
  const aud = claims['aud'];
  if (aud === undefined) fail('ERR_ZITAUTH_AUDIENCE_MISMATCH');
  const list = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    fail('ERR_ZITAUTH_CLAIM_INVALID');
  }
  if (!list.some((item) => audiences.includes(item))) fail('ERR_ZITAUTH_AUDIENCE_MISMATCH');
}

/** `client_id` (RFC 9068, introspection) or else `azp` must be an allowed client. */
function checkClient(claims: Record<string, unknown>, allowed: readonly string[]): void {
  const clientId = claims['client_id'] ?? claims['azp'];
  if (typeof clientId !== 'string' || !allowed.includes(clientId)) {
    fail('ERR_ZITAUTH_CLIENT_NOT_ALLOWED');
  }
}

/**
 * The rules that depend on the clock: `exp`, `nbf`, `iat` and the maximum age. The others
 * (issuer, audience, client, subject) are fixed once a token's claims have passed
 * {@link checkClaims}, so a verifier re-checks only these when it answers from memory.
 */
export function checkLifetime(
  claims: Record<string, unknown>,
  policy: ClaimPolicy,
  nowMs: number,
): void {
  checkTimes(claims, policy, nowMs);
}

/**
 * Checks issuer, lifetime, audience, client and subject. Throws `InvalidTokenError`
 * with the first failing rule's code.
 */
export function checkClaims(
  claims: Record<string, unknown>,
  policy: ClaimPolicy,
  nowMs: number,
): void {
  if (claims['iss'] !== policy.issuer) fail('ERR_ZITAUTH_ISSUER_MISMATCH');
  checkTimes(claims, policy, nowMs);
  checkAudience(claims, policy.audiences);
  if (policy.allowedClientIds !== undefined) checkClient(claims, policy.allowedClientIds);
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') fail('ERR_ZITAUTH_CLAIM_INVALID');
}
