import { describe, expect, it } from 'vitest';
import { newSessionId, seal, sessionKey, unseal } from '../src/session-seal.js';

describe('sealed session records', () => {
  it('opens only with the id it was sealed under', () => {
    const id = newSessionId();
    const record = seal(id, { accessToken: 'secret-token' });
    expect(unseal(id, record)).toEqual({ accessToken: 'secret-token' });
    expect(unseal(newSessionId(), record)).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain('secret-token');
  });

  it('refuses a tampered record and values that are not records', () => {
    const id = newSessionId();
    const record = seal(id, { a: 1 });
    const data = Buffer.from(record.data, 'base64url');
    data[0] = (data[0] ?? 0) ^ 1;
    expect(unseal(id, { ...record, data: data.toString('base64url') })).toBeUndefined();
    for (const value of [undefined, null, 'x', { iv: 1 }])
      expect(unseal(id, value)).toBeUndefined();
  });

  it('keys the store by a digest of the id, never the id', () => {
    const id = newSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessionKey(id)).toMatch(/^session:[A-Za-z0-9_-]{43}$/);
    expect(sessionKey(id)).not.toContain(id);
  });
});
