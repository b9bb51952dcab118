/**
 * The IdP's signing keys. Like ZITADEL, one key signs while older keys stay in the JWKS
 * until removed, so verifiers that cache keys keep accepting tokens across a rotation;
 * tests remove keys to see what a verifier does when a `kid` disappears.
 */
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { newId } from './ids.js';
import type { KeyInfo, SigningAlgorithm } from './types.js';

/** One listed signing key. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Throws a TypeError for anything but a supported algorithm. */
export function assertAlgorithm(alg: unknown): asserts alg is SigningAlgorithm {
  if (!SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm)) {
    throw new TypeError(`@zitauth/testing: unsupported signing algorithm ${String(alg)}`);
  }
}

async function generate(alg: SigningAlgorithm): Promise<SigningKey> {
  assertAlgorithm(alg);
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = newId();
  const jwk: JWK = { ...(await exportJWK(publicKey)), use: 'sig', alg, kid };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** The ordered set of listed keys and which one signs. */
export class KeyRing {
  readonly #keys: SigningKey[] = [];
  #activeKid: string | undefined;

  /** Adds a listed key; `activate` makes it the signing key. */
  async add(alg: SigningAlgorithm, activate = false): Promise<SigningKey> {
    const key = await generate(alg);
    this.#keys.push(key);
    if (activate || this.#activeKid === undefined) this.#activeKid = key.kid;
    return key;
  }

  remove(kid: string): void {
    const index = this.#keys.findIndex((k) => k.kid === kid);
    if (index < 0) return;
    this.#keys.splice(index, 1);
    if (this.#activeKid === kid) this.#activeKid = this.#keys.at(-1)?.kid;
  }

  find(kid: string): SigningKey | undefined {
    return this.#keys.find((k) => k.kid === kid);
  }

  /** The signing key; throws when every key was removed. */
  active(): SigningKey {
    const key = this.#activeKid === undefined ? undefined : this.find(this.#activeKid);
    if (key === undefined) throw new Error('@zitauth/testing: no signing key is listed');
    return key;
  }

  /** The signing key if it has `alg`, else the newest listed key of `alg`, else a new one. */
  async forAlgorithm(alg: SigningAlgorithm): Promise<SigningKey> {
    const active = this.#activeKid === undefined ? undefined : this.find(this.#activeKid);
    if (active?.alg === alg) return active;
    const listed = this.#keys.filter((k) => k.alg === alg).at(-1);
    return listed ?? this.add(alg);
  }

  list(): KeyInfo[] {
    return this.#keys.map((k) => ({ kid: k.kid, alg: k.alg, active: k.kid === this.#activeKid }));
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => ({ ...k.jwk })) };
  }
}
