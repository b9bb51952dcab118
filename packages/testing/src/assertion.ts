/**
 * Checks of signed JWT assertions, as ZITADEL applies them to `private_key_jwt` client
 * authentication and to the JWT bearer grant: the key is found by `kid` among the keys
 * registered for `iss`, `iss` must equal `sub`, `aud` must contain the issuer string
 * exactly (a trailing slash fails), `iat` may lead the clock by at most 1 s and be at most
 * 1 h old, and `exp` must be in the future and at most 1 h after `iat`.
 */
import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';

/** Why an assertion was refused (safe to show: it names a rule, never key material). */
export class AssertionError extends Error {}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const MAX_LEAD_SECONDS = 1;
const MAX_AGE_SECONDS = 3600;

/** Finds the public key registered for `subject` under `kid`. */
export type KeyLookup = (subject: string, kid: string) => KeyObject | undefined;

function unverifiedParts(assertion: string): { kid: string; iss: string } {
  try {
    const { kid } = decodeProtectedHeader(assertion);
    const { iss, sub } = decodeJwt(assertion);
    if (typeof kid !== 'string') throw new AssertionError('assertion has no kid');
    if (typeof iss !== 'string' || iss !== sub)
      throw new AssertionError('assertion iss must equal sub');
    return { kid, iss };
  } catch (error) {
    if (error instanceof AssertionError) throw error;
    throw new AssertionError('assertion is not a JWT');
  }
}

function checkAudience(aud: unknown, issuer: string): void {
  const list = Array.isArray(aud) ? aud : [aud];
  if (!list.includes(issuer)) throw new AssertionError('assertion audience must be the issuer');
}

function checkTimes(claims: Record<string, unknown>, now: number): void {
  const { iat, exp } = claims;
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw new AssertionError('assertion has no iat');
  if (iat > now + MAX_LEAD_SECONDS) throw new AssertionError('assertion iat is in the future');
  if (iat < now - MAX_AGE_SECONDS) throw new AssertionError('assertion iat is too old');
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw new AssertionError('assertion has no exp');
  if (exp <= now) throw new AssertionError('assertion is expired');
  if (exp > iat + MAX_AGE_SECONDS) throw new AssertionError('assertion lives longer than 1 h');
}

/** Verifies an assertion and resolves its subject (`iss` = `sub`); throws `AssertionError`. */
export async function verifyAssertion(
  assertion: string,
  lookup: KeyLookup,
  issuer: string,
  nowMs: number = Date.now(),
): Promise<string> {
  const { kid, iss } = unverifiedParts(assertion);
  const key = lookup(iss, kid);
  if (key === undefined) throw new AssertionError('assertion kid is not registered for its issuer');
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(assertion, key, { algorithms: ALGORITHMS });
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    claims = parsed as Record<string, unknown>;
  } catch {
    throw new AssertionError('assertion signature is invalid');
  }
  if (claims['iss'] !== iss || claims['sub'] !== iss)
    throw new AssertionError('assertion iss must equal sub');
  checkAudience(claims['aud'], issuer);
  checkTimes(claims, nowMs / 1000);
  return iss;
}
