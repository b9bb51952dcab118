/**
 * DPoP (RFC 9449): the proof a client sends beside a sender-constrained access token, and
 * the binding between the two. A bound token carries `cnf.jkt`, the RFC 7638 thumbprint
 * of the client's public key; the client proves it holds the private key by signing, for
 * every request, a short-lived JWT naming the method, the URL and the token's hash. A
 * stolen bound token is then useless without the key, and a captured proof is useless for
 * another request, another URL, another token or, thanks to the replay store, a second time.
 *
 * The proof is checked on every request, before the token itself (an invalid proof costs no
 * IdP call) and whatever the token cache says: a cached token entry keeps its claims,
 * `cnf.jkt` among them, and is compared with each request's own proof. Signatures use the
 * synchronous `node:crypto` check of `jws-signature.ts`, and the thumbprint is hashed here
 * rather than by jose's `calculateJwkThumbprint` (WebCrypto, a thread-pool round trip),
 * so a cached token with a fresh proof can be answered without a promise; a test holds
 * both thumbprints equal.
 */
import {
  createPublicKey,
  hash,
  timingSafeEqual,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createNonces, type Nonces } from './dpop-nonce.js';
import { verifySignature } from './jws-signature.js';
import {
  DpopNonceError,
  DpopProofError,
  InvalidRequestError,
  InvalidTokenError,
} from '../errors.js';
import { describeCause, upstreamFault } from '../observability/operator-fault.js';
import type { DpopReplayStore, TokenRequest } from '../types.js';
import type { ResolvedDpop } from './dpop-options.js';

/** A proof that passed every check: the key it was signed with and how to remember it. */
export interface CheckedProof {
  /** RFC 7638 thumbprint of the proof's public key. */
  readonly jkt: string;
  /** Store key of the proof's `jti` (a hash: the `jti` is the client's text). */
  readonly replayKey: string;
}

/** The per-verifier DPoP state: nonces, the replay store, the algorithm allowlist. */
export interface DpopRuntime {
  readonly mode: 'allowed' | 'required';
  /** The challenge's `algs` value. */
  readonly algs: string;
  /** Checks the request's proof for `token`; throws a `ZitauthError` when it fails. */
  check(request: TokenRequest, token: string): CheckedProof;
  /**
   * Records the proof as used; false when it was used before. Synchronous with the
   * in-process store (then `sync` is true), a promise with a shared one.
   */
  remember(proof: CheckedProof): boolean | Promise<boolean>;
  readonly sync: boolean;
}

/** A proof larger than this is refused before decoding (an RSA 4096 key fits well below). */
const MAX_PROOF_BYTES = 8192;
/** Longest accepted `jti`; a UUID or 16 random bytes is what clients send. */
const MAX_JTI_LENGTH = 256;
/** Proof ids the default store remembers at once. */
const DEFAULT_REPLAY_ENTRIES = 100_000;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Private members of RSA, EC and OKP keys, and the secret of an `oct` key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

function invalid(reason: string): never {
  // The reason is for the operator (`cause`); the caller sees the fixed description.
  throw new DpopProofError('ERR_ZITAUTH_DPOP_PROOF_INVALID', { cause: new Error(reason) });
}

function base64urlJson(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    invalid('a proof segment is not base64url JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('a proof segment is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK whose members were checked. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = THUMBPRINT_MEMBERS[String(jwk['kty'])];
  if (members === undefined) return invalid('the proof key type is not EC, OKP or RSA');
  const canonical: Record<string, unknown> = {};
  for (const name of members) {
    if (typeof jwk[name] !== 'string') invalid(`the proof key lacks "${name}"`);
    canonical[name] = jwk[name];
  }
  return hash('sha256', JSON.stringify(canonical), 'base64url');
}

/**
 * Public keys already imported, by thumbprint: a client signs every proof with the same
 * key, and importing a JWK costs more than hashing it. The thumbprint covers every member
 * that makes the key, so one thumbprint is one key. Bounded across all verifiers.
 */
const importedKeys = new LRUCache<string, KeyObject>({ max: 1_000 });

/** The embedded public key: no private parts, a key type `node:crypto` can import. */
function publicKeyOf(jwk: unknown): { key: KeyObject; jkt: string } {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    return invalid('the proof header has no jwk object');
  }
  const members = jwk as Record<string, unknown>;
  // A private key in a header is a client bug that leaked its key; never accept it.
  if (PRIVATE_MEMBERS.some((name) => members[name] !== undefined)) {
    invalid('the proof jwk holds private key material');
  }
  const jkt = jwkThumbprint(members);
  const known = importedKeys.get(jkt);
  if (known !== undefined) return { key: known, jkt };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new DpopProofError('ERR_ZITAUTH_DPOP_PROOF_INVALID', { cause: error });
  }
  if (key.type !== 'public') invalid('the proof jwk is not a public key');
  importedKeys.set(jkt, key);
  return { key, jkt };
}

/** Header and signature checks; the payload of a proof that is signed by its own key. */
function signedPayload(
  proof: string,
  allowed: ReadonlySet<string>,
): { payload: Record<string, unknown>; jkt: string } {
  if (proof.length > MAX_PROOF_BYTES) invalid('the proof is too large');
  const segments = proof.split('.');
  if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) {
    invalid('the proof is not a compact JWS');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = segments as [string, string, string];
  const header = base64urlJson(encodedHeader);
  if (typeof header['typ'] !== 'string' || header['typ'].toLowerCase() !== 'dpop+jwt') {
    invalid('the proof typ is not dpop+jwt');
  }
  const alg = header['alg'];
  if (typeof alg !== 'string' || !allowed.has(alg)) invalid('the proof alg is not allowed');
  if (header['crit'] !== undefined) invalid('the proof has crit members');
  const { key, jkt } = publicKeyOf(header['jwk']);
  const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'latin1');
  if (!verifySignature(alg, key, input, Buffer.from(encodedSignature, 'base64url'))) {
    invalid('the proof signature does not verify with its jwk (or the key does not fit alg)');
  }
  return { payload: base64urlJson(encodedPayload), jkt };
}

/**
 * RFC 9449 §4.3: `htu` is compared without query and fragment, after syntax- and
 * scheme-based normalization (RFC 3986 §6.2.2–6.2.3): the WHATWG parser lower-cases scheme
 * and host, drops default ports and dot segments; percent-encodings are then made upper
 * case and unreserved characters decoded.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** The first value of header `name`. */
function header(request: TokenRequest, name: string): string | undefined {
  const value = request.headers?.[name];
  return typeof value === 'string' ? value : value?.[0];
}

/**
 * The URL the client addressed: the configured external URL (origin and path prefix,
 * behind a proxy) or the scheme of the connection and the `Host` header, then the path.
 */
export function requestHtu(request: TokenRequest, externalUrl: string | undefined): string {
  const target = request.path ?? '';
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  if (!path.startsWith('/')) return invalid('the request target is not a path');
  if (externalUrl !== undefined) return normalizeHtu(externalUrl + path) ?? '';
  const host = header(request, 'host');
  if (host === undefined || host === '') return invalid('the request has no Host header');
  return normalizeHtu(`${request.secure === true ? 'https' : 'http'}://${host}${path}`) ?? '';
}

function proofHeader(request: TokenRequest): string {
  const value = request.dpop;
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  // RFC 9449 §4.3: exactly one DPoP header.
  if (values.length !== 1) throw new InvalidRequestError('ERR_ZITAUTH_DPOP_PROOF_REQUIRED');
  return values[0]!.trim();
}

/** Constant-time string comparison for values a client may probe (thumbprints). */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

interface ClaimRules {
  maxAgeMs: number;
  toleranceMs: number;
  nonces: Nonces | undefined;
  externalUrl: string | undefined;
}

/** `jti`, `htm`, `htu`, `iat`, `ath` and `nonce` against the request; the proof's `jti`. */
function checkClaims(
  payload: Record<string, unknown>,
  request: TokenRequest,
  token: string,
  rules: ClaimRules,
  nowMs: number,
): string {
  const { jti, htm, htu, iat, ath } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) invalid('bad jti');
  if (typeof htm !== 'string' || htm !== request.method) invalid('htm is not the request method');
  const expected = requestHtu(request, rules.externalUrl);
  if (typeof htu !== 'string' || normalizeHtu(htu) !== expected) {
    invalid(`htu does not match ${expected}`);
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) invalid('the proof has no numeric iat');
  const ageMs = nowMs - iat * 1000;
  if (ageMs > rules.maxAgeMs + rules.toleranceMs) invalid('the proof iat is too old');
  if (ageMs < -rules.toleranceMs) invalid('the proof iat is in the future');
  if (typeof ath !== 'string' || ath !== hash('sha256', token, 'base64url')) {
    invalid('ath is not the hash of the access token');
  }
  if (rules.nonces !== undefined) {
    const nonce = payload['nonce'];
    if (typeof nonce !== 'string' || !rules.nonces.valid(nonce)) {
      throw new DpopNonceError(rules.nonces.issue());
    }
  }
  return jti;
}

/** The default replay store: in-process, bounded, each id kept while its proof could be valid. */
function memoryReplayStore(now: () => number): (key: string, ttlMs: number) => boolean {
  const seen = new LRUCache<string, true>({
    max: DEFAULT_REPLAY_ENTRIES,
    ttlAutopurge: false,
    ttlResolution: 0,
    perf: { now },
  });
  return (key, ttlMs) => {
    if (seen.has(key)) return false;
    seen.set(key, true, { ttl: Math.max(1, Math.ceil(ttlMs)) });
    return true;
  };
}

/**
 * A proof id in the shared store. A store fault refuses the request (503): without the
 * store a replay could not be told from a new proof, so the check fails closed.
 */
async function rememberShared(
  store: DpopReplayStore,
  key: string,
  ttlMs: number,
): Promise<boolean> {
  try {
    return (await store.setIfAbsent(key, true, ttlMs)) === true;
  } catch (error) {
    throw upstreamFault(
      'upstream',
      `zitauth: the DPoP replay store could not be used (${describeCause(error)}); check that it is reachable`,
      error,
    );
  }
}

/** Builds a verifier's DPoP checks from its resolved settings. */
export function createDpop(
  settings: ResolvedDpop,
  clock: { now: () => number; toleranceMs: number },
): DpopRuntime {
  const allowed = new Set(settings.algorithms);
  const rules: ClaimRules = {
    maxAgeMs: settings.maxAgeMs,
    toleranceMs: clock.toleranceMs,
    nonces: settings.nonce === undefined ? undefined : createNonces(settings.nonce, clock.now),
    externalUrl: settings.externalUrl,
  };
  // A proof can be accepted from `iat - tolerance` to `iat + maxAge + tolerance`.
  const replayTtlMs = settings.maxAgeMs + 2 * clock.toleranceMs;
  const shared = settings.replayStore;
  const local = shared === undefined ? memoryReplayStore(clock.now) : undefined;
  return {
    mode: settings.mode,
    algs: settings.algorithms.join(' '),
    sync: local !== undefined,
    check(request, token) {
      const { payload, jkt } = signedPayload(proofHeader(request), allowed);
      const jti = checkClaims(payload, request, token, rules, clock.now());
      return { jkt, replayKey: `dpop:${hash('sha256', `${jkt}.${jti}`, 'base64url')}` };
    },
    remember(proof) {
      if (local !== undefined) return local(proof.replayKey, replayTtlMs);
      return rememberShared(shared!, proof.replayKey, replayTtlMs);
    },
  };
}

/** The key a token is bound to (`cnf.jkt`), if any. */
export function boundKey(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = claims['cnf'];
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>)['jkt'];
  return typeof jkt === 'string' ? jkt : undefined;
}

/**
 * Whether a `cnf` claim is a DPoP key binding and nothing else: `{ jkt }` with a SHA-256
 * thumbprint. Any other confirmation method (an mTLS certificate, RFC 8705) cannot be
 * proven here, so a token carrying one is still refused.
 */
export function isDpopBinding(cnf: unknown): boolean {
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return false;
  const keys = Object.keys(cnf);
  const jkt = (cnf as Record<string, unknown>)['jkt'];
  return keys.length === 1 && typeof jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test(jkt);
}

/**
 * The binding rule, applied to every accepted token once its claims are known (from the
 * IdP or the cache): a token bound to a key needs a proof by that key, and `required`
 * mode needs a proof for every token. Throws `InvalidTokenError`.
 */
export function checkBinding(
  claims: Readonly<Record<string, unknown>>,
  proof: CheckedProof | undefined,
  mode: 'allowed' | 'required',
): void {
  const jkt = boundKey(claims);
  if (proof === undefined) {
    // No downgrade: a bound token sent as a bearer token is refused.
    if (jkt !== undefined || mode === 'required') {
      throw new InvalidTokenError('ERR_ZITAUTH_DPOP_REQUIRED');
    }
    return;
  }
  if (jkt === undefined || !sameText(jkt, proof.jkt)) {
    throw new InvalidTokenError('ERR_ZITAUTH_DPOP_KEY_MISMATCH');
  }
}
