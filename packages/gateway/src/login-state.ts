/**
 * Pending browser logins, keyed by the `state` sent to the IdP. A state is single-use
 * (taken on the first callback, so a replayed callback URL finds nothing), expires
 * (a code phished hours later is useless) and the store is bounded: a flood of `/login`
 * calls evicts the oldest pending logins instead of growing memory without limit.
 * The PKCE verifier and nonce never leave the gateway; the browser only sees `state`.
 */
import { randomBytes } from 'node:crypto';

/** What the callback needs to finish one login. */
export interface PendingLogin {
  /** PKCE code verifier (RFC 7636): proves the code is redeemed by who asked for it. */
  readonly codeVerifier: string;
  /** Expected `nonce` of the ID token (OpenID Connect Core §3.1.2.1). */
  readonly nonce: string;
  /** SHA-256 of the browser-binding cookie set with the redirect to the IdP. */
  readonly bindingHash: string;
  /** Where the browser goes with the token: an allowed origin, checked at `/login`. */
  readonly returnTo: string;
}

/** Options of {@link createLoginStateStore}. */
export interface LoginStateStoreOptions {
  /** How long a login may take, in milliseconds. @default 600000 (10 minutes) */
  ttlMs?: number;
  /** Most pending logins kept; the oldest is dropped first. @default 10000 */
  maxEntries?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** The store of pending logins. */
export interface LoginStateStore {
  /** Remembers a login and returns its fresh, unguessable state (256 bits). */
  begin(login: PendingLogin): string;
  /** Returns and forgets the login of `state`; `undefined` when unknown, used or expired. */
  take(state: string): PendingLogin | undefined;
  /** Pending logins currently held (expired ones may still count until swept). */
  readonly size: number;
}

export function createLoginStateStore(options: LoginStateStoreOptions = {}): LoginStateStore {
  const ttlMs = options.ttlMs ?? 600_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, and entries all live equally long, so the first
  // entries are both the oldest and the first to expire.
  const entries = new Map<string, PendingLogin & { expiresAt: number }>();

  function sweep(): void {
    const time = now();
    for (const [state, entry] of entries) {
      if (entry.expiresAt > time && entries.size < maxEntries) break;
      entries.delete(state);
    }
  }

  return {
    begin(login) {
      sweep();
      const state = randomBytes(32).toString('base64url');
      entries.set(state, { ...login, expiresAt: now() + ttlMs });
      return state;
    },
    take(state) {
      const entry = entries.get(state);
      if (entry === undefined) return undefined;
      entries.delete(state);
      if (entry.expiresAt <= now()) return undefined;
      const { expiresAt: _expiresAt, ...login } = entry;
      return login;
    },
    get size() {
      return entries.size;
    },
  };
}
