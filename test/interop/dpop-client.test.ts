/**
 * The token client's DPoP side against oidc-provider and a real API: its token request
 * carries a proof, so the provider binds the token to the client's key (`token_type`
 * DPoP, `cnf.jkt`), and `client.fetch` sends that token with a fresh proof per request to
 * an API listening on 127.0.0.1 that requires DPoP, following the API's nonce when it
 * asks for one.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { VerifierOptions } from '@zitauth/core';
import { createTokenClient } from '@zitauth/core/token-client';
import * as zexpress from '@zitauth/express';
import {
  INTROSPECT_BASIC,
  M2M,
  M2M_ADMIN,
  RESOURCES,
  startProvider,
  type InteropProvider,
} from './provider.js';

let provider: InteropProvider;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider.close();
});

/** An Express API on 127.0.0.1 that answers `/me` with the caller's subject and jkt. */
async function listeningApi(options: VerifierOptions): Promise<string> {
  const app = express();
  const authenticate = zexpress.auth(options);
  app.get('/me', authenticate, (req, res) => {
    res.json({ subject: req.auth?.subject, cnf: req.auth?.claims['cnf'] });
  });
  app.use(zexpress.errorHandler());
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    authenticate.verifier.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(resource: string, credentials = M2M) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const jkt = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  const tokens = createTokenClient({
    issuer: provider.issuer,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    scopes: ['api:read'],
    tokenParams: { resource },
    dpop: { privateKey },
  });
  onTestFinished(() => tokens.close());
  return { tokens, jkt };
}

describe.each([RESOURCES.es256, RESOURCES.opaque])('a DPoP token client for %s', (resource) => {
  const options = (dpop: VerifierOptions['dpop'] & object): VerifierOptions => ({
    issuer: provider.issuer,
    audience: resource,
    introspection: INTROSPECT_BASIC,
    dpop,
  });

  it('gets a token bound to its key and calls an API that requires DPoP', async () => {
    const { tokens, jkt } = client(resource);
    const token = await tokens.getTokenResponse();
    expect(token.tokenType).toBe('DPoP');
    const api = await listeningApi(options({ mode: 'required' }));
    for (let i = 0; i < 3; i += 1) {
      const res = await tokens.fetch(`${api}/me?call=${i}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ subject: M2M.clientId, cnf: { jkt } });
    }
    // The same token without a proof is refused: it is of no use to whoever copies it.
    const stolen = await fetch(`${api}/me`, {
      headers: { authorization: `Bearer ${token.accessToken}` },
    });
    expect(stolen.status).toBe(401);
  });

  it("follows the provider's nonce at the token endpoint with one resend", async () => {
    const { tokens, jkt } = client(resource, M2M_ADMIN);
    const api = await listeningApi(options({ mode: 'required' }));
    const res = await tokens.fetch(`${api}/me`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ subject: M2M_ADMIN.clientId, cnf: { jkt } });
  });

  it("follows the API's nonce with one resend", async () => {
    const { tokens } = client(resource);
    const api = await listeningApi(options({ mode: 'required', nonce: true }));
    const first = await tokens.fetch(`${api}/me`);
    expect(first.status).toBe(200);
    const again = await tokens.fetch(`${api}/me`);
    expect(again.status).toBe(200);
  });
});

describe('the dpop option of the token client', () => {
  it.each([
    ['a public key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
    ['text that is no key', () => 'not a key'],
    [
      'an RSA key of 1024 bits',
      () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
    ],
  ])('refuses %s when the client is built', (_name, key) => {
    expect(() =>
      createTokenClient({
        issuer: provider.issuer,
        clientId: M2M.clientId,
        clientSecret: M2M.clientSecret,
        dpop: { privateKey: key() as never },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_ZITAUTH_INVALID_OPTION' }));
  });

  it('refuses dpop with a personal access token', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    expect(() =>
      createTokenClient({
        issuer: provider.issuer,
        personalAccessToken: 'pat',
        dpop: { privateKey },
      }),
    ).toThrow(/dpop needs a grant/);
  });
});
