/**
 * Who may ask the gateway for an M2M token. The seed let anyone who could reach the
 * route have the service user's token; here each calling service has a client id and a
 * secret, sent with HTTP Basic (RFC 6749 §2.3.1). The gateway only keeps the SHA-256 of
 * each secret, so its configuration is not itself a credential, and compares digests in
 * constant time, also for unknown ids, so timing tells nothing about which ids exist.
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

/** Checks one client entry; throws a `TypeError` naming what is wrong (never the hash). */
export function checkM2mClient(client: M2mClient): M2mClient {
  if (typeof client.id !== 'string' || !CLIENT_ID.test(client.id)) {
    throw new TypeError('an M2M client id must be 1-128 printable characters without ":"');
  }
  const digest = typeof client.secretSha256 === 'string' ? client.secretSha256.toLowerCase() : '';
  if (!SHA256_HEX.test(digest)) {
    throw new TypeError(`the secret hash of M2M client "${client.id}" must be 64 hex digits`);
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

/** Builds the check of an `Authorization` header against the allowed clients. */
export function createM2mAuthenticator(
  clients: readonly M2mClient[],
): (authorization: string | undefined) => string | undefined {
  const byId = new Map(
    clients.map((client) => [client.id, Buffer.from(client.secretSha256, 'hex')]),
  );
  // Compared against when the id is unknown, so both paths do the same work.
  const decoy = Buffer.alloc(32);
  return (authorization) => {
    const credentials = basicCredentials(authorization);
    if (credentials === undefined) return undefined;
    const expected = byId.get(credentials.id);
    const actual = createHash('sha256').update(credentials.secret, 'utf8').digest();
    const same = timingSafeEqual(actual, expected ?? decoy);
    return same && expected !== undefined ? credentials.id : undefined;
  };
}
