/**
 * Which keys of a key set may verify which token. A JWKS entry is usable only as an
 * asymmetric signing key with no private material (`isUsableJwk`); a token's `alg` picks
 * the key type and curve, its `kid` the key, and without a `kid` only a single fitting
 * key is taken. Keys are imported once per algorithm for jose, and once as a
 * `node:crypto` `KeyObject` for the synchronous path; a key that fails either is skipped.
 */
import { createPublicKey, type JsonWebKey, type KeyObject as NodeKeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK, type JWSHeaderParameters } from 'jose';
import { InvalidTokenError, UpstreamError } from '../errors.js';
import { parseJsonObject } from './http.js';

/** The key types (and curves) each supported asymmetric JWS algorithm verifies with. */
const KEY_TYPES: Readonly<Record<string, { kty: string; crv?: readonly string[] }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: ['P-256'] },
  ES384: { kty: 'EC', crv: ['P-384'] },
  ES512: { kty: 'EC', crv: ['P-521'] },
  // jose verifies EdDSA with Ed25519 only; Ed448 keys would fail to import.
  EdDSA: { kty: 'OKP', crv: ['Ed25519'] },
  Ed25519: { kty: 'OKP', crv: ['Ed25519'] },
};

/** True for the asymmetric JWS algorithms a key set can verify. */
export function isSupportedAlgorithm(alg: unknown): alg is string {
  return typeof alg === 'string' && Object.hasOwn(KEY_TYPES, alg);
}

/** One usable public key, with its imports per algorithm memoised. */
export interface KeyEntry {
  readonly jwk: JWK;
  readonly imports: Map<string, Promise<CryptoKey | undefined>>;
  /** The `node:crypto` key, built on first use; null when it cannot be built. */
  keyObject?: NodeKeyObject | null;
}

/** How a selected entry becomes a usable key of one kind; undefined skips the entry. */
export type Importer<K> = (entry: KeyEntry, alg: string) => K | undefined | Promise<K | undefined>;

/**
 * Whether one JWKS entry can ever verify a signature. Symmetric (`oct`) keys are never
 * used: a verifier that accepts them lets anyone who knows the "public" key forge tokens.
 * Entries carrying private material are refused too: a key set that publishes them is
 * broken, and its keys should not be trusted.
 */
function isUsableJwk(value: unknown): value is JWK {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as Record<string, unknown>;
  if (jwk['kty'] !== 'RSA' && jwk['kty'] !== 'EC' && jwk['kty'] !== 'OKP') return false;
  if (jwk['d'] !== undefined) return false;
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return false;
  if (jwk['kid'] !== undefined && typeof jwk['kid'] !== 'string') return false;
  if (jwk['alg'] !== undefined && typeof jwk['alg'] !== 'string') return false;
  try {
    // One broken key must not take the whole set down: drop it here instead. RSA keys
    // under 2048 bits are dropped too, since jose refuses to verify with them anyway.
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return (
      key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
    );
  } catch {
    return false;
  }
}

/** Parses a JWKS body into usable keys; a body that is not a key set is an IdP fault. */
export function parseKeySet(body: string): JWK[] {
  const document = parseJsonObject(body);
  const keys = document['keys'];
  if (!Array.isArray(keys)) {
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the key set has no "keys" array'),
    });
  }
  const usable = keys.filter(isUsableJwk);
  if (usable.length === 0) {
    // Keep serving the last good keys rather than replace them with an empty set.
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the key set holds no usable signing key'),
    });
  }
  return usable;
}

/** Whether `jwk` may verify a token signed with `alg` (key type, curve, `alg` of the JWK). */
function fitsAlgorithm(jwk: JWK, alg: string): boolean {
  const want = KEY_TYPES[alg];
  if (want === undefined || jwk.kty !== want.kty) return false;
  if (want.crv !== undefined && (jwk.crv === undefined || !want.crv.includes(jwk.crv))) {
    return false;
  }
  return jwk.alg === undefined || jwk.alg === alg;
}

/** Imports a key once per algorithm; a key that fails to import is skipped, not fatal. */
export function importFor(entry: KeyEntry, alg: string): Promise<CryptoKey | undefined> {
  let imported = entry.imports.get(alg);
  if (imported === undefined) {
    imported = importJWK(entry.jwk, alg).then(
      (key) => (key instanceof Uint8Array ? undefined : key),
      () => undefined,
    );
    entry.imports.set(alg, imported);
  }
  return imported;
}

/** The entry's `KeyObject`, built once; a key that cannot be built is skipped, not fatal. */
export function keyObjectOf(entry: KeyEntry): NodeKeyObject | undefined {
  if (entry.keyObject === undefined) {
    try {
      entry.keyObject = createPublicKey({ key: entry.jwk as JsonWebKey, format: 'jwk' });
    } catch {
      entry.keyObject = null;
    }
  }
  return entry.keyObject ?? undefined;
}

/**
 * Picks the key for a token among its candidates ({@link candidatesFor}): the first one
 * `load` can use.
 */
export async function selectKey<K>(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
  load: Importer<K>,
): Promise<K | undefined> {
  const candidates = candidatesFor(keys, alg, kid);
  for (const entry of candidates) {
    const key = await load(entry, alg);
    if (key !== undefined) return key;
  }
  return undefined;
}

/**
 * The keys that may verify a token: by `kid` when the token names one; without a `kid`,
 * only when exactly one key fits the algorithm (guessing among several would be arbitrary).
 */
function candidatesFor(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
): readonly KeyEntry[] {
  const candidates = keys.filter(
    (entry) => fitsAlgorithm(entry.jwk, alg) && (kid === undefined || entry.jwk.kid === kid),
  );
  return kid === undefined && candidates.length !== 1 ? [] : candidates;
}

/** {@link selectKey} with the `node:crypto` importer, which needs no promise. */
export function selectKeySync(
  keys: readonly KeyEntry[],
  alg: string,
  kid: string | undefined,
): NodeKeyObject | undefined {
  for (const entry of candidatesFor(keys, alg, kid)) {
    const key = keyObjectOf(entry);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** Reads `alg` and `kid` from an unverified header; refuses what no key could verify. */
export function readHeader(header: JWSHeaderParameters): { alg: string; kid: string | undefined } {
  const { alg, kid } = header;
  if (!isSupportedAlgorithm(alg)) throw new InvalidTokenError('ERR_ZITAUTH_ALG_NOT_ALLOWED');
  if (kid !== undefined && typeof kid !== 'string') {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
  return { alg, kid };
}
