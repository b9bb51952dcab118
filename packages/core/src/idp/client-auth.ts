/**
 * Client authentication towards the IdP, shared by introspection and the token client.
 * `client_secret_basic` form-urlencodes id and secret before base64 (RFC 6749 §2.3.1):
 * ZITADEL client ids contain `@`, and skipping the encoding breaks them. Assertions
 * (`private_key_jwt` and the JWT bearer grant) follow ZITADEL's rules: `iss = sub` = the
 * key's client or user id, `aud` = the issuer string exactly, a short lifetime, and a
 * fresh `jti` each time so a captured assertion cannot be replayed for long.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { LoadedKey } from './key-file.js';

/** `application/x-www-form-urlencoded` encoding of one value (spaces as `+`). */
export function formUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The `Authorization: Basic …` value for `client_secret_basic`. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const credentials = `${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`;
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/** Lifetime of a client or grant assertion, in seconds (ZITADEL allows up to 1 h). */
export const ASSERTION_LIFETIME_SECONDS = 60;

/**
 * Signs an assertion for `key`: RS256, `kid` = the key file's `keyId`, `iss = sub` = the
 * key's subject, `aud` = `audience` (the issuer), `iat` now, `exp` shortly after.
 */
export async function signAssertion(
  key: LoadedKey,
  audience: string,
  nowMs: number = Date.now(),
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.keyId })
    .setIssuer(key.subject)
    .setSubject(key.subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** The form fields of `private_key_jwt` client authentication (RFC 7523 §2.2). */
export async function privateKeyJwtFields(
  key: LoadedKey,
  audience: string,
  nowMs?: number,
): Promise<Record<string, string>> {
  return {
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await signAssertion(key, audience, nowMs),
  };
}
