/**
 * Identifiers that look like ZITADEL's: resource ids are 18-digit numbers (snowflake
 * style), client ids are `<digits>@<project name>`, opaque tokens are long random
 * base64url strings without dots, so nothing mistakes them for a JWS.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** A fresh 18-digit numeric id. */
export function newId(): string {
  let id = String(randomInt(1, 10));
  for (let i = 0; i < 17; i++) id += String(randomInt(0, 10));
  return id;
}

/** ZITADEL's client id form: the app id, `@`, and the project name in lower case. */
export function clientIdFor(appId: string, projectName: string): string {
  return `${appId}@${projectName.toLowerCase().replace(/\s+/g, '_')}`;
}

/** A random, URL-safe secret or opaque token. */
export function randomToken(bytes = 48): string {
  return randomBytes(bytes).toString('base64url');
}

/** A lower-case, DNS-friendly form of a name. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'org' : s;
}
