/**
 * Refresh tokens as ZITADEL issues them: only to a code flow that asked for
 * `offline_access`, opaque, bound to the client they were issued to, and rotated: each use
 * returns a new refresh token and the used one stops working. A token expires after an
 * idle period without use and, whatever its use, at the end of the chain's absolute
 * lifetime (ZITADEL's OIDC settings "refresh token idle expiration", default 30 days, and
 * "refresh token expiration", default 90 days, counted from the login).
 */
import { randomToken } from './ids.js';

/** What a refresh token stands for. Times are epoch milliseconds unless named seconds. */
export interface RefreshGrant {
  readonly clientId: string;
  readonly userId: string;
  readonly scope: string;
  /** Epoch seconds of the login, carried into every ID token of the chain. */
  readonly authTime: number;
  readonly sid: string;
  /** When the login happened; the absolute lifetime counts from here. */
  readonly chainStartedAt: number;
  readonly idleUntil: number;
}

/** Lifetimes of refresh tokens, in seconds. */
export interface RefreshLifetimes {
  readonly idleSeconds: number;
  readonly absoluteSeconds: number;
}

export class RefreshTokenStore {
  readonly #active = new Map<string, RefreshGrant>();

  constructor(private readonly lifetimes: RefreshLifetimes) {}

  /** Issues a refresh token for a grant (a new login, or the next link of a chain). */
  issue(grant: Omit<RefreshGrant, 'idleUntil'>): string {
    const token = randomToken(48);
    const idleUntil = Date.now() + this.lifetimes.idleSeconds * 1000;
    this.#active.set(token, { ...grant, idleUntil });
    return token;
  }

  /** The grant behind a usable token, or undefined (unknown, used, revoked or expired). */
  find(token: string): RefreshGrant | undefined {
    const grant = this.#active.get(token);
    if (grant === undefined) return undefined;
    const now = Date.now();
    const endOfChain = grant.chainStartedAt + this.lifetimes.absoluteSeconds * 1000;
    if (grant.idleUntil > now && endOfChain > now) return grant;
    this.#active.delete(token);
    return undefined;
  }

  /** Ends every token of one login (`sid`): a replayed code costs the whole chain. */
  deleteChain(sid: string): void {
    for (const [token, grant] of this.#active) if (grant.sid === sid) this.#active.delete(token);
  }

  /** Ends a token: after a rotation, a revocation or a logout. */
  delete(token: string): boolean {
    return this.#active.delete(token);
  }
}
