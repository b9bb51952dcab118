/**
 * Signing and checking the IdP's own JWTs. Signing uses jose's `CompactSign` on the exact
 * JSON payload, so tests can craft odd tokens (missing `exp`, foreign `typ`, unknown
 * `kid`) that a higher-level builder would refuse to produce.
 */
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { assertAlgorithm, type KeyRing, type SigningKey } from './keys.js';

const encoder = new TextEncoder();

/** Which listed key signs: `kid`, else a key of `header.alg`, else the signing key. */
async function pickKey(
  ring: KeyRing,
  header: Record<string, unknown>,
  kid: string | undefined,
): Promise<SigningKey> {
  if (kid !== undefined) {
    const key = ring.find(kid);
    if (key === undefined) throw new TypeError(`@zitauth/testing: no listed key has kid ${kid}`);
    return key;
  }
  if (header['alg'] === undefined) return ring.active();
  assertAlgorithm(header['alg']);
  return ring.forAlgorithm(header['alg']);
}

/** Signs `payload` with `header` merged over `{ alg, kid, typ: 'JWT' }`. */
export async function signJwt(
  ring: KeyRing,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  kid?: string,
): Promise<string> {
  const body = encoder.encode(JSON.stringify(payload));
  if (header['alg'] === 'none') {
    const h = Buffer.from(JSON.stringify({ typ: 'JWT', ...header })).toString('base64url');
    return `${h}.${Buffer.from(body).toString('base64url')}.`;
  }
  const key = await pickKey(ring, header, kid);
  const protectedHeader = { kid: key.kid, typ: 'JWT', ...header, alg: key.alg };
  return new CompactSign(body).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** Whether a string has the shape of a compact JWS. */
export function looksLikeJws(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The payload of one of our own JWTs with a valid signature by a listed key, else undefined. */
export async function verifyOwnJwt(
  ring: KeyRing,
  token: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = typeof kid === 'string' ? ring.find(kid) : undefined;
    if (key === undefined) return undefined;
    const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    return claims as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
