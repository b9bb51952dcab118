/**
 * How a browser session is kept in the gateway's store. The browser holds only a random
 * session id (256 bits); the store never sees it. The store key is the id's SHA-256, and
 * the record is encrypted (AES-256-GCM) under a key derived from the id with HKDF, so a
 * dump of a shared store (Redis) yields no usable token and no cookie value: reading a
 * session needs the cookie itself. The store key is bound to the ciphertext as associated
 * data, so a record copied under another key does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** What the store holds for one session. */
export interface SealedRecord {
  readonly iv: string;
  readonly data: string;
  readonly tag: string;
}

const INFO = 'zitauth-gateway session v1';

/** A fresh session id, as the cookie carries it. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** The store key of a session: a digest of its id, never the id. */
export function sessionKey(id: string): string {
  return `session:${createHash('sha256').update(id).digest('base64url')}`;
}

function keyOf(id: string): Buffer {
  return Buffer.from(hkdfSync('sha256', id, '', INFO, 32));
}

export function seal(id: string, value: unknown): SealedRecord {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(id), iv);
  cipher.setAAD(Buffer.from(sessionKey(id)));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64url'),
    data: data.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/** The record's value, or undefined when it is not a record sealed under this id. */
export function unseal(id: string, record: unknown): unknown {
  if (typeof record !== 'object' || record === null) return undefined;
  const { iv, data, tag } = record as Partial<SealedRecord>;
  if (typeof iv !== 'string' || typeof data !== 'string' || typeof tag !== 'string')
    return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(id), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(sessionKey(id)));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
