/**
 * Server-provided DPoP nonces (RFC 9449 §9). A nonce limits how long a proof can be made in
 * advance: a client must first learn the current nonce (from a `use_dpop_nonce` refusal),
 * so a proof made on a stolen device yesterday is worthless today, whatever its `iat` says.
 *
 * Nonces are stateless: the number of the current time window and an HMAC of it. Any
 * instance holding the same secret accepts them, so a fleet needs one shared `secret`;
 * without it each process draws its own, and a client bounced between instances would
 * be asked for a new nonce by each.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ZitauthConfigError } from '../errors.js';

/** The `dpop.nonce` option. */
export interface NonceOptions {
  /**
   * HMAC key of the nonces, at least 32 bytes; the same on every instance of a fleet.
   * @default 32 random bytes per process
   */
  secret?: string | Uint8Array;
  /**
   * How long a nonce stays valid, in milliseconds: it is accepted in the window it was
   * issued in and the next, so for `lifetimeMs` to twice that. @default 300000
   */
  lifetimeMs?: number;
}

/** Issues and checks nonces. */
export interface Nonces {
  /** The current nonce. */
  issue(): string;
  /** Whether `nonce` was issued in the current or the previous window. */
  valid(nonce: string): boolean;
}

const MIN_SECRET_BYTES = 32;

function fail(message: string): never {
  throw new ZitauthConfigError(`zitauth: ${message}`);
}

function secretOf(value: NonceOptions['secret']): Buffer {
  if (value === undefined) return randomBytes(MIN_SECRET_BYTES);
  const secret = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  if (secret.length < MIN_SECRET_BYTES) {
    fail(`dpop.nonce.secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return secret;
}

/** Builds the nonce source; throws `ZitauthConfigError` for a short secret or a bad lifetime. */
export function createNonces(options: NonceOptions, now: () => number): Nonces {
  const secret = secretOf(options.secret);
  const lifetimeMs = options.lifetimeMs ?? 300_000;
  if (typeof lifetimeMs !== 'number' || !Number.isFinite(lifetimeMs) || lifetimeMs < 1000) {
    fail('dpop.nonce.lifetimeMs must be a number of milliseconds ≥ 1000');
  }
  const mac = (window: number): string =>
    createHmac('sha256', secret).update(`dpop-nonce:${window}`).digest('base64url');
  const nonceOf = (window: number): string => `${window.toString(36)}.${mac(window)}`;
  const windowNow = (): number => Math.floor(now() / lifetimeMs);

  return {
    issue: () => nonceOf(windowNow()),
    valid(nonce) {
      const dot = nonce.indexOf('.');
      const window = parseInt(nonce.slice(0, dot), 36);
      const current = windowNow();
      if (dot < 1 || (window !== current && window !== current - 1)) return false;
      const expected = Buffer.from(nonceOf(window));
      const given = Buffer.from(nonce);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
