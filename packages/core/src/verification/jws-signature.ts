/**
 * The signature check of a compact JWS with `node:crypto`'s synchronous `verify()` and a
 * `KeyObject` kept per key, instead of jose's `compactVerify`. jose verifies through
 * WebCrypto, whose every call is a round trip through the libuv thread pool; profiles
 * showed that round trip, not the arithmetic, as most of the cost of a first-seen token
 * (and of each forged one). jose stays the reference: a differential test runs both over
 * valid tokens of every algorithm and a corpus of malformed and adversarial ones, and
 * they must decide alike. So every rule jose applies here is applied the same way:
 * `crit` is refused (no extension is understood), segments decode as jose decodes them,
 * RSA keys need 2048 bits, PSS salts are the hash length, ECDSA signatures are raw
 * `r || s` of the curve's exact size on the algorithm's own curve, EdDSA is Ed25519.
 */
import { verify, type KeyObject } from 'node:crypto';
import { base64url } from 'jose';
import { InvalidTokenError, type ZitauthErrorCode } from '../errors.js';

/** How one JWS algorithm is checked. */
interface Scheme {
  /** Digest name for `verify()`; null for EdDSA, which hashes internally. */
  readonly hash: string | null;
  readonly keyType: 'rsa' | 'ec' | 'ed25519';
  /** OpenSSL's name of the algorithm's curve (ECDSA only). */
  readonly curve?: string;
  /** Exact signature length in bytes (ECDSA and EdDSA). */
  readonly signatureBytes?: number;
  /** RSA-PSS salt length in bytes (the digest length, as RFC 7518 §3.5 requires). */
  readonly saltLength?: number;
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  PS256: { hash: 'sha256', keyType: 'rsa', saltLength: 32 },
  PS384: { hash: 'sha384', keyType: 'rsa', saltLength: 48 },
  PS512: { hash: 'sha512', keyType: 'rsa', saltLength: 64 },
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1', signatureBytes: 64 },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1', signatureBytes: 96 },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1', signatureBytes: 132 },
  EdDSA: { hash: null, keyType: 'ed25519', signatureBytes: 64 },
  Ed25519: { hash: null, keyType: 'ed25519', signatureBytes: 64 },
};

/** RSA keys shorter than this are refused, as jose refuses them (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;
/** `RSA_PKCS1_PSS_PADDING` from OpenSSL. */
const PSS_PADDING = 6;

function fail(code: ZitauthErrorCode): never {
  throw new InvalidTokenError(code);
}

const STRICT_BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes a segment exactly as jose does. The common, canonical form takes Node's fast
 * decoder; anything else (padding, whitespace, a stray character) goes through jose's
 * own decoder, so a lenient or strict answer is the same answer jose would give.
 */
/** The URL alphabet with a length Node's fast decoder reads the way jose does. */
function isCanonicalForm(segment: string): boolean {
  return segment.length % 4 !== 1 && STRICT_BASE64URL.test(segment);
}

export function decodeSegment(segment: string): Buffer {
  if (isCanonicalForm(segment)) {
    return Buffer.from(segment, 'base64url');
  }
  try {
    return Buffer.from(base64url.decode(segment));
  } catch {
    return fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
}

/** What `keyFits` reads of a key; `asymmetricKeyDetails` builds a new object on every read. */
interface KeyProfile {
  type: string;
  keyType: string | undefined;
  modulusLength: number;
  namedCurve: string | undefined;
}

/** Key sets keep one `KeyObject` per key, so each key's profile is read once. */
const profiles = new WeakMap<KeyObject, KeyProfile>();

function profileOf(key: KeyObject): KeyProfile {
  let profile = profiles.get(key);
  if (profile === undefined) {
    const details = key.asymmetricKeyDetails;
    profile = {
      type: key.type,
      keyType: key.asymmetricKeyType,
      modulusLength: details?.modulusLength ?? 0,
      namedCurve: details?.namedCurve,
    };
    profiles.set(key, profile);
  }
  return profile;
}

/** Whether `key` may check `scheme` at all: key type, curve, RSA size. */
function keyFits(scheme: Scheme, key: KeyObject): boolean {
  const profile = profileOf(key);
  if (profile.type !== 'public' || profile.keyType !== scheme.keyType) return false;
  if (scheme.keyType === 'rsa') return profile.modulusLength >= MIN_RSA_BITS;
  if (scheme.curve !== undefined) return profile.namedCurve === scheme.curve;
  return true;
}

/**
 * True when `signature` is a valid `alg` signature of `input` by `key`. Never throws for
 * a bad signature: a wrong size, a wrong key or a failing check are all just false.
 */
export function verifySignature(
  alg: string,
  key: KeyObject,
  input: Buffer,
  signature: Buffer,
): boolean {
  const scheme = SCHEMES[alg];
  if (scheme === undefined || !keyFits(scheme, key)) return false;
  if (scheme.signatureBytes !== undefined && signature.length !== scheme.signatureBytes) {
    return false;
  }
  try {
    if (scheme.saltLength !== undefined) {
      const pss = { key, padding: PSS_PADDING, saltLength: scheme.saltLength };
      return verify(scheme.hash, input, pss, signature);
    }
    if (scheme.keyType === 'ec') {
      return verify(scheme.hash, input, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return verify(scheme.hash, input, key, signature);
  } catch {
    return false;
  }
}

/** Resolves the verification key of a token whose header passed the allowlist. */
export type KeyObjectSource = (header: Record<string, unknown>) => Promise<KeyObject>;

/** jose signs and checks only ASCII text; anything else in a segment is malformed. */
function requireAscii(segment: string): void {
  for (let i = 0; i < segment.length; i += 1) {
    if (segment.charCodeAt(i) > 0x7f) fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
}

/**
 * Checks a compact JWS's signature and resolves its payload bytes. The header must
 * already have passed the pre-checks (JSON object, allowed `alg`, no `b64`). The steps
 * run in jose's order, so the same fault is reported the same way. Rejects with
 * `InvalidTokenError` (malformed, bad signature) or the key source's own error.
 * `canonical` says the caller has already found every segment in canonical base64url
 * (`compactSegments` in jwt-shape.ts), so the segments are decoded without looking again.
 */
export async function verifyCompact(
  token: string,
  header: Record<string, unknown>,
  keyOf: KeyObjectSource,
  allowed: ReadonlySet<string>,
  canonical = false,
): Promise<Uint8Array> {
  const alg = checkProtectedHeader(header, allowed);
  const payload = verifyCompactWith(token, alg, await keyOf(header), canonical);
  if (payload instanceof InvalidTokenError) throw payload;
  return payload;
}

/**
 * {@link verifyCompact} with the key already in hand, synchronously: the payload bytes, a
 * bad signature's refusal (returned: forged tokens are the common refusal here, and each
 * throw inside a request costs more than the rest of the refusal), or a throw for a
 * malformed token. `peek` gives the key when memory holds it; undefined means "look it up".
 */
export function verifyCompactSync(
  token: string,
  header: Record<string, unknown>,
  peek: (header: Record<string, unknown>) => KeyObject | undefined,
  allowed: ReadonlySet<string>,
  canonical = false,
): Uint8Array | InvalidTokenError | undefined {
  const alg = checkProtectedHeader(header, allowed);
  const key = peek(header);
  return key === undefined ? undefined : verifyCompactWith(token, alg, key, canonical);
}

/** The header rules jose applies before it looks for a key; the algorithm to check with. */
function checkProtectedHeader(
  header: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): string {
  // jose understands no extension but `b64`, which the pre-checks already refused.
  if (header['crit'] !== undefined) fail('ERR_ZITAUTH_TOKEN_MALFORMED');
  // Checked again here, as jose does, so the allowlist holds even without the pre-checks.
  if (typeof header['alg'] !== 'string' || !allowed.has(header['alg'])) {
    fail('ERR_ZITAUTH_ALG_NOT_ALLOWED');
  }
  return header['alg'];
}

function verifyCompactWith(
  token: string,
  alg: string,
  key: KeyObject,
  checked: boolean,
): Uint8Array | InvalidTokenError {
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  const payload = token.slice(first + 1, last);
  // One look at the payload decides both its ASCII check and how it decodes (the usual,
  // canonical form passes both at once); none when the caller has looked already.
  const canonical = checked || isCanonicalForm(payload);
  if (!canonical) requireAscii(payload);
  const encodedSignature = token.slice(last + 1);
  const signature = checked
    ? Buffer.from(encodedSignature, 'base64url')
    : decodeSegment(encodedSignature);
  // The header passed the pre-checks and the payload is ASCII, so latin1 is exact here.
  const input = Buffer.from(token.slice(0, last), 'latin1');
  if (!verifySignature(alg, key, input, signature)) {
    return new InvalidTokenError('ERR_ZITAUTH_SIGNATURE_INVALID');
  }
  return canonical ? Buffer.from(payload, 'base64url') : decodeSegment(payload);
}
