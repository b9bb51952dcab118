/**
 * Key rotation at the provider, picked up without restarting the API. The provider is
 * replaced by one with a new key set on the same port (oidc-provider has no live
 * rotation); the next token names a `kid` the API has never seen, and core refetches the
 * key set for it once the refetch cooldown has passed, on an injected clock.
 */
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ADAPTERS, invalidToken, startApi } from './apps.js';
import { RESOURCES, generateSigningKeys, startProvider } from './provider.js';

/** Core's default `jwks.cooldownMs`: the least time between refetches for unknown kids. */
const COOLDOWN_MS = 30_000;

describe.each(ADAPTERS)('key rotation at oidc-provider through %s', (adapter) => {
  it('accepts tokens signed with a new key, refetching for the unknown kid once the cooldown allows', async () => {
    const provider = await startProvider();
    onTestFinished(() => provider.close());
    let time = Date.now();
    const api = await startApi(adapter, {
      issuer: provider.issuer,
      audience: RESOURCES.rs256,
      now: () => time,
    });
    onTestFinished(() => api.close());

    const before = await provider.clientCredentials(RESOURCES.rs256);
    expect((await api.get('/me', before)).status).toBe(200);

    await provider.restart(generateSigningKeys());
    const after = await provider.clientCredentials(RESOURCES.rs256);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    // Right after a fetch, an unknown kid does not trigger another: a flood of made-up
    // kids must not hammer the IdP.
    const early = await api.get('/me', after);
    expect(early.status).toBe(401);
    expect(early.wwwAuthenticate).toBe(invalidToken('The access token signing key is unknown'));

    time += COOLDOWN_MS;
    const res = await api.get('/me', after);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenKind: 'jwt', audience: [RESOURCES.rs256] });
  });
});
