/**
 * Pending logins and authorization codes. A code is single-use: its first redemption
 * moves it to a spent list, and a second redemption revokes the tokens the first one
 * produced (RFC 6749 §4.1.2), which is what a stolen-code replay should cost.
 */
import { randomToken } from './ids.js';

/** Lifetime of a pending login and of a code, in milliseconds. */
const LOGIN_TTL_MS = 10 * 60 * 1000;
const CODE_TTL_MS = 60 * 1000;

/** An authorize request waiting for the user to log in. */
export interface AuthRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly scope: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
}

/** What a code stands for. */
export interface CodeGrant extends AuthRequest {
  readonly userId: string;
  /** Epoch seconds. */
  readonly authTime: number;
  readonly sid: string;
  readonly issuedTokens: string[];
}

export class LoginStore {
  readonly #requests = new Map<string, AuthRequest>();
  readonly #codes = new Map<string, CodeGrant>();
  readonly #spent = new Map<string, CodeGrant>();

  /** Remembers an authorize request; resolves its id (carried by the login form). */
  begin(request: Omit<AuthRequest, 'expiresAt'>): string {
    const id = randomToken(24);
    this.#requests.set(id, { ...request, expiresAt: Date.now() + LOGIN_TTL_MS });
    return id;
  }

  pending(id: string): AuthRequest | undefined {
    const request = this.#requests.get(id);
    return request !== undefined && request.expiresAt > Date.now() ? request : undefined;
  }

  /** Ends a pending login with a code for `userId`. */
  complete(
    id: string,
    userId: string,
    sid: string,
  ): { code: string; request: AuthRequest } | undefined {
    const request = this.pending(id);
    if (request === undefined) return undefined;
    this.#requests.delete(id);
    const code = randomToken(32);
    const authTime = Math.floor(Date.now() / 1000);
    this.#codes.set(code, {
      ...request,
      userId,
      authTime,
      sid,
      issuedTokens: [],
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return { code, request };
  }

  /** Takes a code for redemption; `spent` is set when it was redeemed before. */
  redeem(code: string): { grant: CodeGrant | undefined; spent: CodeGrant | undefined } {
    const grant = this.#codes.get(code);
    if (grant === undefined) return { grant: undefined, spent: this.#spent.get(code) };
    this.#codes.delete(code);
    this.#spent.set(code, grant);
    return { grant: grant.expiresAt > Date.now() ? grant : undefined, spent: undefined };
  }
}
