/**
 * Who may ask the gateway for an M2M token. The seed let anyone who could reach the
 * route have the service user's token; here each calling service has a client id and a
 * secret, sent with HTTP Basic (RFC 6749 §2.3.1). The gateway only keeps the SHA-256 of
 * each secret, so its configuration is not itself a credential, and compares digests in
 * constant time, also for unknown ids, so timing tells nothing about which ids exist.
 *
 * Secrets must be strong (see `isStrongSecret`). A hash cannot show how strong its secret
 * is, so start-up refuses only hashes of well-known weak values, and a weak secret that
 * matches its hash is refused when it is presented (the operator is told which client).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A service allowed to get M2M tokens. */
export interface M2mClient {
  /** The id the service sends as the Basic user name. */
  readonly id: string;
  /** SHA-256 of its secret, 64 hex digits (`printf %s "$SECRET" | sha256sum`). */
  readonly secretSha256: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CLIENT_ID = /^[\x21-\x39\x3b-\x7e]{1,128}$/; // printable, no ':' (it separates the hash)

/** SHA-256 of `secret`, as hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What a secret needs: length, variety and an estimated 128 bits (length × log2 of the classes used). */
export const SECRET_RULE =
  'at least 24 characters, 8 of them different, and about 128 bits (e.g. openssl rand -base64 32)';

/** Whether `secret` meets {@link SECRET_RULE}. */
export function isStrongSecret(secret: string): boolean {
  const characters = [...secret];
  if (characters.length < 24 || new Set(characters).size < 8) return false;
  let pool = 0;
  if (/[a-z]/.test(secret)) pool += 26;
  if (/[A-Z]/.test(secret)) pool += 26;
  if (/[0-9]/.test(secret)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(secret)) pool += 33;
  return characters.length * Math.log2(pool) >= 128;
}

/** Values people put in configuration by mistake; their hashes are refused at start-up. */
const WEAK_SECRETS = ['', 'secret', 'password', 'changeme', 'change-me', 'test', 'demo', 'admin'];
const WEAK_HASHES = new Set(WEAK_SECRETS.map(hashSecret));

/** Checks one client entry; throws a `TypeError` naming what is wrong (never the hash). */
export function checkM2mClient(client: M2mClient): M2mClient {
  if (typeof client.id !== 'string' || !CLIENT_ID.test(client.id)) {
    throw new TypeError('an M2M client id must be 1-128 printable characters without ":"');
  }
  const digest = typeof client.secretSha256 === 'string' ? client.secretSha256.toLowerCase() : '';
  if (!SHA256_HEX.test(digest)) {
    throw new TypeError(`the secret hash of M2M client "${client.id}" must be 64 hex digits`);
  }
  if (WEAK_HASHES.has(digest) || digest === hashSecret(client.id)) {
    throw new TypeError(
      `the secret of M2M client "${client.id}" is a well-known weak value; use one with ${SECRET_RULE}`,
    );
  }
  return { id: client.id, secretSha256: digest };
}

/** Parses `id:sha256hex,id:sha256hex`. Throws a `TypeError` on a malformed entry. */
export function parseM2mClients(value: string): M2mClient[] {
  const clients = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const separator = entry.lastIndexOf(':');
      if (separator < 1) throw new TypeError('each M2M client must be written id:sha256hex');
      return checkM2mClient({
        id: entry.slice(0, separator),
        secretSha256: entry.slice(separator + 1),
      });
    });
  if (new Set(clients.map((client) => client.id)).size !== clients.length) {
    throw new TypeError('an M2M client id is listed twice');
  }
  return clients;
}

/** Reads `Authorization: Basic`; percent-decodes both parts as RFC 6749 §2.3.1 asks. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header === undefined ? null : /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 1) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

/**
 * The verdict on an `Authorization` header: `accepted` (right secret), `refused` with the
 * id when a configured client sent a wrong secret (it counts towards its lockout), or
 * `refused` without one (no or unreadable credentials, unknown id).
 */
export type M2mAuthResult =
  { kind: 'accepted'; id: string; weak: boolean } | { kind: 'refused'; id?: string };

/** Builds the check of an `Authorization` header against the allowed clients. */
export function createM2mAuthenticator(
  clients: readonly M2mClient[],
): (authorization: string | undefined) => M2mAuthResult {
  const byId = new Map(
    clients.map((client) => [client.id, Buffer.from(client.secretSha256, 'hex')]),
  );
  // Compared against when the id is unknown, so both paths do the same work.
  const decoy = Buffer.alloc(32);
  return (authorization) => {
    const credentials = basicCredentials(authorization);
    if (credentials === undefined) return { kind: 'refused' };
    const expected = byId.get(credentials.id);
    const actual = createHash('sha256').update(credentials.secret, 'utf8').digest();
    const same = timingSafeEqual(actual, expected ?? decoy);
    if (expected === undefined) return { kind: 'refused' };
    if (!same) return { kind: 'refused', id: credentials.id };
    return { kind: 'accepted', id: credentials.id, weak: !isStrongSecret(credentials.secret) };
  };
}
