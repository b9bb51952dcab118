/** The pending-login store: single use, expiry, and a bound on memory. */
import { describe, expect, it } from 'vitest';
import { createLoginStateStore, type PendingLogin } from '../src/login-state.js';

const login = (returnTo = 'http://app.test/'): PendingLogin => ({
  codeVerifier: 'verifier',
  nonce: 'nonce',
  bindingHash: 'hash',
  returnTo,
});

describe('createLoginStateStore', () => {
  it('hands out 256-bit base64url states and gives the login back once', () => {
    const store = createLoginStateStore();
    const state = store.begin(login());
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.take(state)).toEqual(login());
    expect(store.take(state)).toBeUndefined();
  });

  it('knows nothing of a state it did not issue', () => {
    expect(createLoginStateStore().take('made-up')).toBeUndefined();
  });

  it('forgets a login once its time is up', () => {
    let now = 1_000;
    const store = createLoginStateStore({ ttlMs: 100, now: () => now });
    const state = store.begin(login());
    now += 100;
    expect(store.take(state)).toBeUndefined();
  });

  it('drops the oldest login when full', () => {
    const store = createLoginStateStore({ maxEntries: 2 });
    const first = store.begin(login('http://app.test/1'));
    const second = store.begin(login('http://app.test/2'));
    const third = store.begin(login('http://app.test/3'));
    expect(store.size).toBe(2);
    expect(store.take(first)).toBeUndefined();
    expect(store.take(second)?.returnTo).toBe('http://app.test/2');
    expect(store.take(third)?.returnTo).toBe('http://app.test/3');
  });

  it('sweeps expired logins before they count against the bound', () => {
    let now = 0;
    const store = createLoginStateStore({ ttlMs: 10, maxEntries: 100, now: () => now });
    for (let i = 0; i < 50; i += 1) store.begin(login());
    now = 20;
    store.begin(login());
    expect(store.size).toBe(1);
  });
});
