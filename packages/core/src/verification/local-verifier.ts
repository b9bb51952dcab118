/**
 * Local verification of JWT access tokens: form and header pre-checks, signature
 * (`node:crypto` with keys from the key set, see `jws-signature.ts`; jose `compactVerify`
 * as the reference), the access-token rules of `jwt-shape.ts` (ID tokens refused,
 * required claims, lifetime, the optional RFC 9068 profile), then the shared
 * claim checks.
 *
 * The algorithm is checked against an asymmetric-only allowlist before any key is
 * looked up, so `alg: none`, HMAC tokens (including HS256 "signed" with the IdP's public
 * key as the secret) and unknown algorithms are refused without ever causing a key set
 * fetch. jose errors are translated in one place and kept only as `cause`.
 */
import { isUtf8 } from 'node:buffer';
import type { KeyObject as NodeKeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { checkClaims, type ClaimPolicy } from './claim-checks.js';
import {
  InvalidTokenError,
  ZitauthConfigError,
  ZitauthError,
  type ZitauthErrorCode,
} from '../errors.js';
import { verifyCompact, verifyCompactSync } from './jws-signature.js';
import {
  checkAccessTokenClaims,
  checkHeader,
  compactSegments,
  type AccessTokenRules,
} from './jwt-shape.js';
import { isSupportedAlgorithm } from '../idp/jwk.js';
import type { KeySet } from '../idp/key-set.js';

/** Claims a JWT access token must carry unless configured otherwise (ZITADEL sends both). */
export const DEFAULT_REQUIRED_CLAIMS: readonly string[] = Object.freeze(['iat', 'client_id']);

/** The longest JWT access token lifetime accepted unless configured otherwise: 24 h. */
export const DEFAULT_MAX_TOKEN_LIFETIME_MS = 86_400_000;

/** Options of {@link createLocalVerifier}. */
export interface LocalVerifierOptions {
  /** Where verification keys come from. */
  keySet: KeySet;
  /** The claim rules every token must satisfy. */
  policy: ClaimPolicy;
  /** Accepted JWS algorithms; asymmetric only. */
  algorithms: readonly string[];
  /** Require RFC 9068 JWT access tokens (`typ: at+jwt`, `client_id`, `jti`, `iat`). */
  strictJwtProfile: boolean;
  /**
   * Treat a JWT without `jti` as an ID token (true for ZITADEL, whose access tokens always
   * carry one). Providers whose access tokens lack `jti` need false. @default true
   */
  requireJti?: boolean;
  /** Claims every token must carry. @default ['iat', 'client_id'] */
  requiredClaims?: readonly string[];
  /** Longest accepted `exp` − `iat` (or − now without `iat`), in milliseconds. @default 86400000 */
  maxTokenLifetimeMs?: number;
  /** Clock in epoch milliseconds. */
  now: () => number;
  /**
   * Who checks signatures: `node:crypto` (synchronous, the default) or jose, the
   * reference the differential test compares it with. @default 'node:crypto'
   */
  signatures?: 'node:crypto' | 'jose';
  /** Accept tokens bound to a DPoP key (`cnf.jkt`); the verifier checks the proof. @default false */
  dpopBinding?: boolean;
}

/**
 * Verifies one compact JWT and resolves its payload. Rejects with a `ZitauthError`.
 * `sync`, when present, is the same check without a promise while memory holds the key:
 * the payload, the refusal (returned, not thrown: each forged token of a flood is one
 * refusal, and every rethrow on the way out costs about a microsecond), or undefined when
 * the key needs I/O (then use the function).
 */
export type LocalVerify = ((token: string) => Promise<Record<string, unknown>>) & {
  sync?: (token: string) => Record<string, unknown> | ZitauthError | undefined;
};

/** jose error codes and what they mean for the caller; anything else is a bad signature. */
const JOSE_CODES: Readonly<Record<string, ZitauthErrorCode>> = {
  ERR_JOSE_ALG_NOT_ALLOWED: 'ERR_ZITAUTH_ALG_NOT_ALLOWED',
  ERR_JOSE_NOT_SUPPORTED: 'ERR_ZITAUTH_TOKEN_MALFORMED',
  ERR_JWS_INVALID: 'ERR_ZITAUTH_TOKEN_MALFORMED',
  ERR_JWT_INVALID: 'ERR_ZITAUTH_TOKEN_MALFORMED',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'ERR_ZITAUTH_SIGNATURE_INVALID',
  ERR_JWKS_NO_MATCHING_KEY: 'ERR_ZITAUTH_KEY_NOT_FOUND',
};

/**
 * The one place library errors become ours. Our own errors (including `UpstreamError`
 * from the key set) pass through unchanged; jose's messages stay in `cause`.
 */
export function translateJoseError(error: unknown): ZitauthError {
  if (error instanceof ZitauthError) return error;
  const joseCode = (error as { code?: unknown } | null)?.code;
  const code = typeof joseCode === 'string' ? JOSE_CODES[joseCode] : undefined;
  return new InvalidTokenError(code ?? 'ERR_ZITAUTH_SIGNATURE_INVALID', { cause: error });
}

function fail(code: ZitauthErrorCode): never {
  throw new InvalidTokenError(code);
}

/**
 * The text of JSON bytes, or undefined when they are not UTF-8 (RFC 8259 requires it, so
 * bad bytes are malformed). Decoded as jose's `TextDecoder` does, leading BOM dropped,
 * through Node's validator and decoder, several times faster than a fatal `TextDecoder`.
 */
function utf8Text(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bom = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  return buffer.toString('utf8', bom);
}

/** Parses a JSON object from a segment's bytes, or fails as malformed. */
function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    const text = utf8Text(bytes);
    if (text === undefined) fail('ERR_ZITAUTH_TOKEN_MALFORMED');
    value = JSON.parse(text);
  } catch {
    fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
  return value as Record<string, unknown>;
}

/**
 * Checks the token's form and unverified header before any key is fetched, so a
 * malformed or wrongly typed token never causes a key set fetch.
 */
function preflight(
  token: string,
  allowed: ReadonlySet<string>,
  strict: boolean,
): Record<string, unknown> {
  const [encodedHeader] = compactSegments(token);
  const header = parseJsonObject(Buffer.from(encodedHeader, 'base64url'));
  checkHeader(header, allowed, strict);
  return header;
}

/** The allowlist as a set; symmetric, `none` or unknown algorithms are configuration errors. */
function allowlist(algorithms: readonly string[]): ReadonlySet<string> {
  if (algorithms.length === 0) {
    throw new ZitauthConfigError('zitauth: algorithms must list at least one algorithm');
  }
  for (const alg of algorithms) {
    if (!isSupportedAlgorithm(alg)) {
      throw new ZitauthConfigError(
        `zitauth: algorithm ${JSON.stringify(alg)} is not an asymmetric JWS algorithm`,
      );
    }
  }
  return new Set(algorithms);
}

/** The signature step: the payload bytes of a token whose header passed the pre-checks. */
type SignatureCheck = (token: string, header: Record<string, unknown>) => Promise<Uint8Array>;

function signatureCheck(
  keySet: KeySet,
  allowed: ReadonlySet<string>,
  which: LocalVerifierOptions['signatures'] = 'node:crypto',
): SignatureCheck {
  if (which === 'node:crypto') {
    // preflight has found every segment canonical (compactSegments).
    return (token, header) => verifyCompact(token, header, keySet.getKeyObject, allowed, true);
  }
  // jose gets the allowlist too, so the check holds even if the pre-check is bypassed.
  const verifyOptions = { algorithms: [...allowed] };
  return async (token) => (await compactVerify(token, keySet.getKey, verifyOptions)).payload;
}

/**
 * Builds the local JWT check: pre-checks, signature, access-token shape, then claims.
 * Throws `ZitauthConfigError` at once for an empty or non-asymmetric allowlist.
 */
export function createLocalVerifier(options: LocalVerifierOptions): LocalVerify {
  const allowed = allowlist(options.algorithms);
  const signed = signatureCheck(options.keySet, allowed, options.signatures);
  const rules: AccessTokenRules = {
    requireJti: options.requireJti !== false,
    requiredClaims: options.requiredClaims ?? DEFAULT_REQUIRED_CLAIMS,
    strictJwtProfile: options.strictJwtProfile,
    maxTokenLifetimeMs: options.maxTokenLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS,
    dpopBinding: options.dpopBinding === true,
  };
  const accepted = (payload: Record<string, unknown>): Record<string, unknown> => {
    const now = options.now();
    checkAccessTokenClaims(payload, rules, now);
    checkClaims(payload, options.policy, now);
    return payload;
  };
  const verify: LocalVerify = async (token) => {
    const header = preflight(token, allowed, options.strictJwtProfile);
    let payload: Record<string, unknown>;
    try {
      payload = parseJsonObject(await signed(token, header));
    } catch (error) {
      throw translateJoseError(error);
    }
    return accepted(payload);
  };
  const peek = options.keySet.peekKeyObject;
  if ((options.signatures ?? 'node:crypto') === 'node:crypto' && peek !== undefined) {
    const keyOf = peek as (header: Record<string, unknown>) => NodeKeyObject | undefined;
    // No jose here: every refusal on this path is already ours, and anything else is a bug
    // that must surface as itself.
    verify.sync = (token) => {
      try {
        const header = preflight(token, allowed, options.strictJwtProfile);
        const bytes = verifyCompactSync(token, header, keyOf, allowed, true);
        if (bytes === undefined || bytes instanceof ZitauthError) return bytes;
        return accepted(parseJsonObject(bytes));
      } catch (error) {
        if (error instanceof ZitauthError) return error;
        throw error;
      }
    };
  }
  return verify;
}
