/**
 * What a JWT access token must look like before and after its signature is checked:
 * the compact serialization in canonical base64url, an allowed algorithm and `typ`, and
 * the claims that set an access token apart from other JWTs the same IdP signs (ID
 * tokens, logout tokens, DPoP proofs). Kept apart from the signature check so every way
 * of verifying a signature runs exactly the same rules.
 */
import { isDpopBinding } from './dpop.js';
import { InvalidTokenError, type ZitauthErrorCode } from '../errors.js';

/** The access-token rules of one verifier. */
export interface AccessTokenRules {
  /** Treat a JWT without `jti` as an ID token. */
  requireJti: boolean;
  /** Claims that must be present (ZITADEL always sends `iat` and `client_id`). */
  requiredClaims: readonly string[];
  /** Require RFC 9068 (`typ: at+jwt`, `client_id`, `iat`, `jti`). */
  strictJwtProfile: boolean;
  /** Longest accepted `exp` − `iat` (or − now without `iat`), in milliseconds. */
  maxTokenLifetimeMs: number;
  /** Accept a DPoP key binding (`cnf.jkt`), which the verifier then checks against the proof. */
  dpopBinding?: boolean;
}

/** `typ` values an access token may carry (RFC 8725 §3.11), compared case-insensitively. */
const ACCESS_TOKEN_TYPES: ReadonlySet<string> = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const RFC9068_TYPES: ReadonlySet<string> = new Set(['at+jwt', 'application/at+jwt']);

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function fail(code: ZitauthErrorCode): never {
  throw new InvalidTokenError(code);
}

/** True for a token routed to JWT verification: three segments, a JSON header first. */
export function looksLikeJws(token: string): boolean {
  const first = token.indexOf('.');
  return (
    token.startsWith('eyJ') && first > 0 && token.indexOf('.', first + 1) === token.lastIndexOf('.')
  );
}

/**
 * A segment in canonical base64url: the URL alphabet, no padding, a length that can
 * encode whole bytes, and zero unused bits in the last character. Anything else decodes
 * leniently in most libraries, so two spellings of one token would exist. An empty
 * segment passes here (an unsigned token is refused by its algorithm, a clearer answer).
 */
function isCanonical(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  const rest = segment.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(segment[segment.length - 1]!);
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** The three segments of a compact JWS, each canonical, or a malformed-token failure. */
export function compactSegments(token: string): [string, string, string] {
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every(isCanonical)) fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  return segments as [string, string, string];
}

/**
 * Checks the unverified header before any key is fetched: an allowed algorithm, no
 * unencoded payload (`b64`, which JWTs never use) and an access-token `typ`, so an
 * explicitly typed other JWT (`logout+jwt`, `dpop+jwt`, `secevent+jwt`) is refused.
 */
export function checkHeader(
  header: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  strictJwtProfile: boolean,
): void {
  if (typeof header['alg'] !== 'string') fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  if (!allowed.has(header['alg'])) fail('ERR_ZITAUTH_ALG_NOT_ALLOWED');
  if (header['b64'] !== undefined) fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  const typ = header['typ'];
  if (typ === undefined && !strictJwtProfile) return;
  if (typeof typ !== 'string') fail('ERR_ZITAUTH_TOKEN_TYPE');
  const types = strictJwtProfile ? RFC9068_TYPES : ACCESS_TOKEN_TYPES;
  if (!types.has(typ.toLowerCase())) fail('ERR_ZITAUTH_TOKEN_TYPE');
}

/**
 * Refuses ID tokens presented as access tokens. ZITADEL may put the same audiences in
 * both, so `aud` cannot tell them apart; ID tokens carry `nonce`/`at_hash`/`c_hash` and
 * no `jti`, while ZITADEL access tokens always carry a `jti`.
 */
function checkNotIdToken(payload: Record<string, unknown>, requireJti: boolean): void {
  const idTokenClaim = ['nonce', 'at_hash', 'c_hash'].some((name) => Object.hasOwn(payload, name));
  if (idTokenClaim) fail('ERR_ZITAUTH_ID_TOKEN');
  const jti = payload['jti'];
  if (jti === undefined) {
    if (requireJti) fail('ERR_ZITAUTH_ID_TOKEN');
    return;
  }
  if (typeof jti !== 'string' || jti === '') fail('ERR_ZITAUTH_CLAIM_INVALID');
}

/** Required claims are present; `client_id`, when present, names a client. */
function checkRequired(payload: Record<string, unknown>, required: readonly string[]): void {
  for (const name of required) {
    if (payload[name] === undefined || payload[name] === null) fail('ERR_ZITAUTH_CLAIM_INVALID');
  }
  const clientId = payload['client_id'];
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) {
    fail('ERR_ZITAUTH_CLAIM_INVALID');
  }
}

/**
 * A bounded lifetime. A finite `exp` can still be absurd (`1e20`, or milliseconds where
 * seconds belong): a signed token that never expires outlives every key rotation. Only
 * for JWTs: an opaque token (a ZITADEL personal access token may be valid for years) is
 * asked about at the IdP, which can revoke it.
 */
function checkLifetime(payload: Record<string, unknown>, limitMs: number, nowMs: number): void {
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return; // checkClaims refuses these
  const from = typeof iat === 'number' ? iat * 1000 : nowMs;
  if (exp * 1000 - from > limitMs) fail('ERR_ZITAUTH_TOKEN_LIFETIME');
}

/**
 * The access-token claims of a verified payload, before the shared claim checks (an ID
 * token is named as such, whatever its audience): not an ID token, not sender-constrained,
 * required claims present, a bounded lifetime.
 */
export function checkAccessTokenClaims(
  payload: Record<string, unknown>,
  rules: AccessTokenRules,
  nowMs: number,
): void {
  checkNotIdToken(payload, rules.requireJti || rules.strictJwtProfile);
  // A `cnf` binds the token to a key (RFC 7800, RFC 9449) that a bearer check cannot prove;
  // with DPoP on, a `jkt` binding is accepted here and proven against each request's proof.
  const cnf = payload['cnf'];
  if (cnf !== undefined && !(rules.dpopBinding === true && isDpopBinding(cnf))) {
    fail('ERR_ZITAUTH_TOKEN_TYPE');
  }
  checkRequired(payload, rules.requiredClaims);
  // RFC 9068 §2.2 requires both, whatever requiredClaims says.
  if (rules.strictJwtProfile) checkRequired(payload, ['iat', 'client_id']);
  checkLifetime(payload, rules.maxTokenLifetimeMs, nowMs);
}
