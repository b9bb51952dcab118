/**
 * The token hand-off of the opt-in token mode, closed against login CSRF. The page that
 * starts a login makes a secret, keeps it in `sessionStorage` and sends only its SHA-256
 * to `/login`; the hash travels inside the sealed login state. After the code exchange
 * the gateway stores the access token under a one-time code (in the gateway store, keyed
 * by the code's digest, for a minute) and sends the browser back with only that code. The
 * page redeems it with its secret at `POST /api/v1/handoff`. A code the page did not ask
 * for (an attacker's, sent to the victim) fails twice: the victim's page has no matching
 * secret, and the gateway refuses a secret whose hash is not the one the login carried.
 * `take` makes the code single-use across replicas.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a hand-off code can be redeemed, in milliseconds. */
export const HANDOFF_TTL_MS = 60_000;

/** A base64url SHA-256: what `/login` accepts as the page's secret hash. */
export const SECRET_HASH = /^[A-Za-z0-9_-]{43}$/;

/** The part of the gateway store the hand-off uses. */
export interface HandoffStore {
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  take(key: string): Promise<unknown>;
}

/** The token the page receives. */
export interface HandedOffToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in?: number;
}

interface Entry {
  secretHash: string;
  token: HandedOffToken;
}

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

const keyOf = (code: string): string => `handoff:${digest(code)}`;

/** Stores the token under a fresh one-time code; resolves the code for the redirect. */
export async function issueHandoffCode(
  store: HandoffStore,
  secretHash: string,
  token: HandedOffToken,
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const entry: Entry = { secretHash, token };
  await store.set(keyOf(code), entry, HANDOFF_TTL_MS);
  return code;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const { secretHash, token } = value as Partial<Entry>;
  return typeof secretHash === 'string' && typeof token?.access_token === 'string';
}

/** The token behind `code` when `secret` is the page's; the code is spent either way. */
export async function redeemHandoffCode(
  store: HandoffStore,
  code: string,
  secret: string,
): Promise<HandedOffToken | undefined> {
  const entry = await store.take(keyOf(code));
  if (!isEntry(entry)) return undefined;
  const expected = Buffer.from(entry.secretHash);
  const actual = Buffer.from(digest(secret));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return entry.token;
}
