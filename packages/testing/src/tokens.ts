/**
 * What the IdP remembers about tokens it issued: opaque tokens by value, JWTs by `jti`
 * (for revocation and the extra claims introspection releases), and which are revoked.
 * `resolve` is the one place that decides whether a presented token is an active access
 * token, shared by introspection, userinfo and revocation.
 */
import { decodeJwt } from 'jose';
import { looksLikeJws, verifyOwnJwt } from './jwt.js';
import type { KeyRing } from './keys.js';

/** An issued access token's claims, plus claims released only by introspection. */
export interface IssuedToken {
  readonly format: 'jwt' | 'opaque';
  readonly claims: Record<string, unknown>;
  readonly extra: Record<string, unknown>;
}

const nowSeconds = (): number => Date.now() / 1000;

function isCurrent(claims: Record<string, unknown>, now: number): boolean {
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || !(exp > now)) return false;
  return nbf === undefined || (typeof nbf === 'number' && nbf <= now);
}

function isIdToken(claims: Record<string, unknown>): boolean {
  return 'nonce' in claims || 'at_hash' in claims || typeof claims['jti'] !== 'string';
}

export class TokenStore {
  readonly #opaque = new Map<string, IssuedToken>();
  readonly #jwts = new Map<string, IssuedToken>();
  readonly #revoked = new Set<string>();

  saveOpaque(token: string, issued: IssuedToken): void {
    this.#opaque.set(token, issued);
  }

  saveJwt(jti: string, issued: IssuedToken): void {
    this.#jwts.set(jti, issued);
  }

  /** Revokes an opaque token, or a JWT by its `jti`. Unknown input is ignored (RFC 7009). */
  revoke(token: string): void {
    if (this.#opaque.has(token)) {
      this.#revoked.add(`opaque:${token}`);
      return;
    }
    if (!looksLikeJws(token)) return;
    try {
      const { jti } = decodeJwt(token);
      if (typeof jti === 'string') this.#revoked.add(`jti:${jti}`);
    } catch {
      // Not a JWT: nothing to revoke.
    }
  }

  /** The active access token behind `token`, or undefined (unknown, expired, revoked, forged). */
  async resolve(token: string, ring: KeyRing, issuer: string): Promise<IssuedToken | undefined> {
    const now = nowSeconds();
    if (!looksLikeJws(token)) {
      const issued = this.#opaque.get(token);
      if (issued === undefined || this.#revoked.has(`opaque:${token}`)) return undefined;
      return isCurrent(issued.claims, now) ? issued : undefined;
    }
    const claims = await verifyOwnJwt(ring, token);
    if (claims === undefined || claims['iss'] !== issuer || isIdToken(claims)) return undefined;
    if (!isCurrent(claims, now) || this.#revoked.has(`jti:${String(claims['jti'])}`)) {
      return undefined;
    }
    const known = this.#jwts.get(String(claims['jti']));
    return { format: 'jwt', claims, extra: known?.extra ?? {} };
  }
}
