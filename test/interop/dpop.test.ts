/**
 * DPoP-bound access tokens (RFC 9449) from oidc-provider, an independent implementation
 * of the client's side of the binding: its token endpoint checks our test client's proof
 * and binds the token to the proof key (`cnf.jkt` in a JWT, and in the introspection
 * answer of an opaque token). Every adapter must then accept the token only with a fresh,
 * matching proof per request, and refuse a replay, a proof for another URL or method, a
 * stale one, one without the token hash, one by another key, and the token sent as Bearer.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, SignJWT, type JWK } from 'jose';
import type { VerifierOptions } from '@zitauth/core';
import { ADAPTERS, testApi, type AdapterName, type Api } from './apps.js';
import { API, INTROSPECT_BASIC, M2M, startProvider, type InteropProvider } from './provider.js';

let provider: InteropProvider;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider.close();
});

/** The URL clients call the API at; the apps check `htu` against it. */
const ME = `${API}/me`;

interface ClientKey {
  privateKey: KeyObject;
  jwk: JWK;
}

async function clientKey(): Promise<ClientKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, jwk: await exportJWK(publicKey) };
}

interface ProofClaims {
  htm?: string;
  htu?: string;
  iat?: number;
  /** The token the proof is for (its `ath`); none for the token endpoint. */
  token?: string;
  noAth?: boolean;
}

function proof(key: ClientKey, claims: ProofClaims = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: claims.htm ?? 'GET',
    htu: claims.htu ?? ME,
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
    jti: randomUUID(),
  };
  if (claims.token !== undefined && claims.noAth !== true) {
    payload['ath'] = createHash('sha256').update(claims.token).digest('base64url');
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);
}

/** A token from oidc-provider bound to `key` (the token request carries its proof). */
function boundToken(key: ClientKey, resource: string): Promise<string> {
  return provider.clientCredentials(resource, M2M, (htu) => proof(key, { htm: 'POST', htu }));
}

function dpopHeaders(token: string, dpop: string): Record<string, string> {
  return { authorization: `DPoP ${token}`, dpop };
}

const ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519';

function challenge(used: 'Bearer' | 'DPoP', error: string, description: string): string {
  const params = `error="${error}", error_description="${description}"`;
  return used === 'Bearer'
    ? `Bearer realm="api", ${params}, DPoP realm="api", algs="${ALGS}"`
    : `Bearer realm="api", DPoP realm="api", ${params}, algs="${ALGS}"`;
}

const INVALID_PROOF = challenge('DPoP', 'invalid_dpop_proof', 'The DPoP proof is invalid');

/** The two token forms oidc-provider issues, with the verifier options each needs. */
const FORMS = [
  ['a JWT', `${API}/es256`, {}],
  [
    'an opaque token',
    `${API}/opaque`,
    {
      introspection: {
        clientId: INTROSPECT_BASIC.clientId,
        clientSecret: INTROSPECT_BASIC.clientSecret,
      },
    },
  ],
] as const;

describe.each(ADAPTERS)('oidc-provider DPoP-bound tokens through %s', (adapter: AdapterName) => {
  describe.each(FORMS)('%s', (_form, resource, extra) => {
    function api(
      dpop: NonNullable<VerifierOptions['dpop']> = { mode: 'allowed', externalUrl: API },
    ) {
      return testApi(adapter, { issuer: provider.issuer, audience: resource, ...extra, dpop });
    }

    it('accepts the token with a proof by its key, once per proof', async () => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const app = await api();
      const headers = dpopHeaders(token, await proof(key, { token }));
      const res = await app.get('/me', headers);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ subject: M2M.clientId, audience: [resource] });
      // A fresh proof for the cached token is accepted; the first one again is not.
      const again = await app.get('/me', dpopHeaders(token, await proof(key, { token })));
      expect(again.status).toBe(200);
      const replay = await app.get('/me', headers);
      expect(replay.status).toBe(401);
      expect(replay.wwwAuthenticate).toBe(
        challenge('DPoP', 'invalid_dpop_proof', 'The DPoP proof was already used'),
      );
      expect(replay.body).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'The DPoP proof was already used',
      });
    });

    it.each([
      ['another URL', { htu: `${API}/admin` }],
      ['another host', { htu: 'https://evil.interop.test/me' }],
      ['another method', { htm: 'POST' }],
      ['a stale iat', { iat: Math.floor(Date.now() / 1000) - 600 }],
      ['no ath', { noAth: true }],
    ])('refuses a proof for %s', async (_name, claims) => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const app = await api();
      const res = await app.get('/me', dpopHeaders(token, await proof(key, { token, ...claims })));
      expect([res.status, res.wwwAuthenticate]).toEqual([401, INVALID_PROOF]);
    });

    it('refuses a proof by another key than the token is bound to', async () => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const thief = await clientKey();
      const app = await api();
      const res = await app.get('/me', dpopHeaders(token, await proof(thief, { token })));
      expect(res.status).toBe(401);
      expect(res.wwwAuthenticate).toBe(
        challenge('DPoP', 'invalid_token', 'The access token is not bound to the DPoP proof key'),
      );
    });

    it('refuses the bound token sent as Bearer (no downgrade), in every mode', async () => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const allowed = await api();
      const res = await allowed.get('/me', token);
      expect(res.status).toBe(401);
      expect(res.wwwAuthenticate).toBe(
        challenge('Bearer', 'invalid_token', 'The access token must be sent with a DPoP proof'),
      );
      const off = await api('off');
      const refused = await off.get('/me', token);
      expect(refused.status).toBe(401);
      expect(refused.wwwAuthenticate).toBe(
        'Bearer realm="api", error="invalid_token", error_description="The access token type is not accepted"',
      );
    });

    it('refuses the DPoP scheme without a proof (400)', async () => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const app: Api = await api({ mode: 'required', externalUrl: API });
      const res = await app.get('/me', { authorization: `DPoP ${token}` });
      expect(res.status).toBe(400);
      expect(res.wwwAuthenticate).toBe(
        `DPoP realm="api", error="invalid_request", error_description="Exactly one DPoP proof is required", algs="${ALGS}"`,
      );
    });

    it('checks htu against the Host header when no external URL is set', async () => {
      const key = await clientKey();
      const token = await boundToken(key, resource);
      const app = await api('allowed');
      const htu = 'http://api.interop.test/me';
      const headers = { ...dpopHeaders(token, await proof(key, { token, htu })) };
      const res = await app.get('/me', { ...headers, host: 'api.interop.test' });
      expect(res.status).toBe(200);
    });
  });
});
