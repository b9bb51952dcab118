/**
 * Pending browser logins, sealed into the browser that started them. The PKCE verifier,
 * nonce, `state` and return page are encrypted and authenticated (JWE, `dir` +
 * `A256GCM`, with a key derived from the gateway's cookie secret) into a short-lived
 * cookie. The gateway keeps nothing per pending login, so no flood of `/login` calls can
 * push out a login in progress (the old bounded table could be filled by anyone), and any
 * replica holding the same secret can finish a login another one started.
 *
 * The cookie also binds the login to the browser: a callback URL opened in another
 * browser (login CSRF, RFC 6749 §10.12) arrives without it. A callback is single-use in
 * practice: its answer clears the cookie, and the IdP redeems a code once.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

/** What the callback needs to finish one login. */
export interface PendingLogin {
  /** The `state` sent to the IdP (256 random bits); the callback must bring it back. */
  readonly state: string;
  /** PKCE code verifier (RFC 7636): proves the code is redeemed by who asked for it. */
  readonly codeVerifier: string;
  /** Expected `nonce` of the ID token (OpenID Connect Core §3.1.2.1). */
  readonly nonce: string;
  /** Where the browser goes after the login: an allowed page, checked at `/login`. */
  readonly returnTo: string;
  /** Token mode: SHA-256 of the page's secret, which redeems the hand-off code. */
  readonly handoffHash?: string | undefined;
}

/** Options of {@link createLoginSealer}. */
export interface LoginSealerOptions {
  /** 32-byte key (see `deriveKey` in cookies.ts). */
  key: Uint8Array;
  /** How long a login may take, in milliseconds. @default 600000 (10 minutes) */
  ttlMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** Seals and opens pending logins. */
export interface LoginSealer {
  /** A fresh, unguessable state (256 bits, base64url). */
  newState(): string;
  /** The sealed login, for the cookie. */
  seal(login: PendingLogin): Promise<string>;
  /**
   * The login sealed in `sealed`, if it is intact, unexpired and for `state`; undefined
   * otherwise (tampered, made with another key, too old, another login's cookie).
   */
  open(sealed: string, state: string): Promise<PendingLogin | undefined>;
  /** How long a login may take, in milliseconds. */
  readonly ttlMs: number;
}

/** The sealed payload; short names keep the cookie small. */
interface Sealed {
  v: 1;
  s: string;
  cv: string;
  n: string;
  r: string;
  /** Expiry, epoch milliseconds. */
  x: number;
  /** The page's secret hash (token mode). */
  h?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function isSealed(value: unknown): value is Sealed {
  const v = value as Partial<Sealed> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.v === 1 &&
    [v.s, v.cv, v.n, v.r].every((field) => typeof field === 'string') &&
    (v.h === undefined || typeof v.h === 'string') &&
    typeof v.x === 'number'
  );
}

async function decrypt(sealed: string, key: Uint8Array): Promise<unknown> {
  try {
    const { plaintext } = await compactDecrypt(sealed, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    return JSON.parse(decoder.decode(plaintext)) as unknown;
  } catch {
    // Tampered, truncated, another key, not JSON: all the same to the caller.
    return undefined;
  }
}

export function createLoginSealer(options: LoginSealerOptions): LoginSealer {
  if (options.key.byteLength !== 32) throw new TypeError('the login state key must be 32 bytes');
  const ttlMs = options.ttlMs ?? 600_000;
  const now = options.now ?? Date.now;
  return {
    ttlMs,
    newState: () => randomBytes(32).toString('base64url'),
    async seal(login) {
      const payload: Sealed = {
        v: 1,
        s: login.state,
        cv: login.codeVerifier,
        n: login.nonce,
        r: login.returnTo,
        x: now() + ttlMs,
        ...(login.handoffHash === undefined ? {} : { h: login.handoffHash }),
      };
      return new CompactEncrypt(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .encrypt(options.key);
    },
    async open(sealed, state) {
      const payload = await decrypt(sealed, options.key);
      if (!isSealed(payload) || payload.x <= now() || !sameText(payload.s, state)) return undefined;
      return {
        state: payload.s,
        codeVerifier: payload.cv,
        nonce: payload.n,
        returnTo: payload.r,
        handoffHash: payload.h,
      };
    },
  };
}
