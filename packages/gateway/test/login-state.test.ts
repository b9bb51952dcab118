/** The login sealer: round trip, expiry, binding to the state, tampering, another key. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLoginSealer, type PendingLogin } from '../src/login-state.js';

const key = new Uint8Array(randomBytes(32));

function pending(state: string): PendingLogin {
  return {
    state,
    codeVerifier: 'verifier-'.padEnd(43, 'v'),
    nonce: 'nonce-value',
    returnTo: 'https://app.example.com/page?x=1',
  };
}

describe('createLoginSealer', () => {
  it('hands out 256-bit base64url states, each one new', () => {
    const sealer = createLoginSealer({ key });
    const states = new Set(Array.from({ length: 50 }, () => sealer.newState()));
    expect(states.size).toBe(50);
    for (const state of states) expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('opens what it sealed, for the same state only', async () => {
    const sealer = createLoginSealer({ key });
    const state = sealer.newState();
    const sealed = await sealer.seal(pending(state));
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain('nonce-value');
    await expect(sealer.open(sealed, state)).resolves.toEqual(pending(state));
    await expect(sealer.open(sealed, sealer.newState())).resolves.toBeUndefined();
  });

  it('refuses a sealed login once its time is up', async () => {
    let now = 0;
    const sealer = createLoginSealer({ key, ttlMs: 100, now: () => now });
    const sealed = await sealer.seal(pending('s'));
    now = 99;
    await expect(sealer.open(sealed, 's')).resolves.toBeDefined();
    now = 100;
    await expect(sealer.open(sealed, 's')).resolves.toBeUndefined();
  });

  it('refuses a changed, truncated or foreign value', async () => {
    const sealer = createLoginSealer({ key });
    const sealed = await sealer.seal(pending('s'));
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[4] ?? '', 'base64url');
    tag[0] = (tag[0] ?? 0) ^ 0x80;
    const changed = [...parts.slice(0, 4), tag.toString('base64url')].join('.');
    await expect(sealer.open(changed, 's')).resolves.toBeUndefined();
    await expect(sealer.open(sealed.slice(0, -4), 's')).resolves.toBeUndefined();
    await expect(sealer.open('not-a-jwe', 's')).resolves.toBeUndefined();
    const other = createLoginSealer({ key: new Uint8Array(randomBytes(32)) });
    await expect(other.open(sealed, 's')).resolves.toBeUndefined();
  });

  it('needs a 32-byte key', () => {
    expect(() => createLoginSealer({ key: new Uint8Array(16) })).toThrow(/32 bytes/);
  });
});
