/**
 * The client's side of DPoP (RFC 9449) for the token client: a proof per request, signed
 * with the client's private key, and the server nonces (`DPoP-Nonce`) each origin hands
 * out, remembered for the next proof. oauth4webapi has the same logic behind its `DPoP()`
 * handle, but only for requests it sends itself with a WebCrypto key pair, and its proof
 * method is not public; the token client sends its requests through `idpFetch` and takes
 * a `node:crypto` key, so the few lines of signing live here.
 */
import {
  createPrivateKey,
  createPublicKey,
  hash,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { ZitauthConfigError } from '../errors.js';

/** The `dpop` option of `createTokenClient`. */
export interface TokenClientDpopOptions {
  /**
   * The client's DPoP private key: a `KeyObject`, PEM text or a private JWK. EC P-256
   * signs ES256, P-384 ES384, Ed25519 EdDSA, RSA (≥ 2048 bits) PS256.
   */
  privateKey: KeyObject | string | JsonWebKey;
}

/** Signs proofs and keeps the nonces servers hand out. */
export interface DpopSigner {
  /** A fresh proof for `method` and `url` (query and fragment dropped), with `ath` for `accessToken`. */
  proof(method: string, url: string | URL, accessToken?: string): string;
  /** Remembers the `DPoP-Nonce` of a response for later proofs to its origin; true when there was one. */
  remember(url: string | URL, headers: Headers | { get(name: string): string | null }): boolean;
}

/** Nonces kept at once (one per origin the client talks to). */
const MAX_NONCES = 100;

function configError(message: string): ZitauthConfigError {
  return new ZitauthConfigError(`zitauth: createTokenClient: ${message}`);
}

function loadPrivateKey(value: unknown): KeyObject {
  if (typeof value === 'object' && value !== null && 'asymmetricKeyType' in value) {
    return value as KeyObject;
  }
  try {
    if (typeof value === 'string') return createPrivateKey(value);
    if (typeof value === 'object' && value !== null) {
      return createPrivateKey({ key: value as JsonWebKey, format: 'jwk' });
    }
  } catch (error) {
    throw new ZitauthConfigError(
      'zitauth: createTokenClient: dpop.privateKey is not a readable private key',
      'ERR_ZITAUTH_INVALID_OPTION',
      { cause: error },
    );
  }
  throw configError('dpop.privateKey must be a KeyObject, PEM text or a private JWK');
}

/** The JWS algorithm of a key, and the options `sign()` needs for it. */
function algorithmOf(key: KeyObject): { alg: string; hash: string | null; options: object } {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec' && details.namedCurve === 'prime256v1') {
    return { alg: 'ES256', hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } };
  }
  if (type === 'ec' && details.namedCurve === 'secp384r1') {
    return { alg: 'ES384', hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } };
  }
  if (type === 'ed25519') return { alg: 'EdDSA', hash: null, options: {} };
  if (type === 'rsa' && (details.modulusLength ?? 0) >= 2048) {
    return { alg: 'PS256', hash: 'sha256', options: { padding: 6, saltLength: 32 } };
  }
  throw configError(
    'dpop.privateKey must be EC P-256 or P-384, Ed25519, or RSA of 2048 bits or more',
  );
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Builds a signer; throws `ZitauthConfigError` for a missing, public or unusable key. */
export function createDpopSigner(options: TokenClientDpopOptions, now: () => number): DpopSigner {
  if (typeof options !== 'object' || options === null) {
    throw configError('dpop must be { privateKey }');
  }
  const privateKey = loadPrivateKey(options.privateKey);
  if (privateKey.type !== 'private') throw configError('dpop.privateKey must be a private key');
  const { alg, hash: digest, options: signOptions } = algorithmOf(privateKey);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const header = encode({ typ: 'dpop+jwt', alg, jwk });
  const nonces = new Map<string, string>();

  return {
    proof(method, url, accessToken) {
      const target = new URL(url);
      const claims: Record<string, unknown> = {
        jti: randomUUID(),
        htm: method.toUpperCase(),
        htu: `${target.origin}${target.pathname}`,
        iat: Math.floor(now() / 1000),
      };
      if (accessToken !== undefined) claims['ath'] = hash('sha256', accessToken, 'base64url');
      const nonce = nonces.get(target.origin);
      if (nonce !== undefined) claims['nonce'] = nonce;
      const input = `${header}.${encode(claims)}`;
      const signature = sign(digest, Buffer.from(input), { key: privateKey, ...signOptions });
      return `${input}.${signature.toString('base64url')}`;
    },
    remember(url, headers) {
      const nonce = headers.get('dpop-nonce');
      if (nonce === null || nonce === '') return false;
      const origin = new URL(url).origin;
      nonces.delete(origin);
      if (nonces.size >= MAX_NONCES) nonces.delete(nonces.keys().next().value!);
      nonces.set(origin, nonce);
      return true;
    },
  };
}

/** Whether an answer asks for a proof with a fresh nonce (RFC 9449 §8 and §9). */
export function asksForNonce(status: number, headers: Headers, body?: string): boolean {
  if (headers.get('dpop-nonce') === null) return false;
  if (status === 401) return /error="use_dpop_nonce"/.test(headers.get('www-authenticate') ?? '');
  return status === 400 && body !== undefined && /"error"\s*:\s*"use_dpop_nonce"/.test(body);
}
