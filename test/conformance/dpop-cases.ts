/**
 * The DPoP rows of the conformance table (RFC 9449): the same requests and exact answers
 * in every adapter, for a verifier with `dpop: 'allowed'` (Bearer and DPoP challenges
 * side by side) and one with `'required'` (the DPoP challenge alone). Each request gets a
 * fresh proof by a client key, checked against the external URL the verifiers are given.
 */
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import type { MintOptions } from '@zitauth/testing';
import type { TestRequest } from './apps.js';
import type { Case, CaseEnv, Expected } from './cases.js';

/** The URL clients call the apps at (`dpop.externalUrl`). */
export const EXTERNAL_URL = 'https://api.example.test';
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA'];
const ALGS = `algs="${DPOP_ALGORITHMS.join(' ')}"`;

/** A client's DPoP key and its RFC 7638 thumbprint (known up front, for IdP faults). */
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' }) as JWK;
const jkt = createHash('sha256')
  .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
  .digest('base64url');

async function proof(token: string, htu = `${EXTERNAL_URL}/me`): Promise<string> {
  return new SignJWT({
    htm: 'GET',
    htu,
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    ath: createHash('sha256').update(token).digest('base64url'),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(privateKey);
}

/** A token bound to the client key (`cnf.jkt`), or to another key. */
async function boundToken(idp: CaseEnv['idp'], options: MintOptions = {}, bound = true) {
  const thumbprint = bound ? jkt : 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  return idp.mintAccessToken({
    subject: 'user-1',
    ...options,
    claims: { cnf: { jkt: thumbprint } },
  });
}

function dpop(token: string, proofs: string | string[] | undefined, path = '/me'): TestRequest {
  const headers: Record<string, string | string[]> = { authorization: `DPoP ${token}` };
  if (proofs !== undefined) headers['dpop'] = proofs;
  return { path, headers };
}

function params(error: string, description: string): string {
  return `error="${error}", error_description="${description}"`;
}

/** A refusal in `allowed` mode: the error on the challenge of the scheme the request used. */
function allowedRefusal(
  status: number,
  used: 'Bearer' | 'DPoP',
  error: string,
  description: string,
): Expected {
  const wwwAuthenticate =
    used === 'Bearer'
      ? `Bearer realm="api", ${params(error, description)}, DPoP realm="api", ${ALGS}`
      : `Bearer realm="api", DPoP realm="api", ${params(error, description)}, ${ALGS}`;
  return { status, wwwAuthenticate, body: { error, error_description: description } };
}

const CALLER = (kind: 'jwt' | 'opaque') => ({
  status: 200,
  body: { subject: 'user-1', orgId: null, tokenKind: kind },
});

/** Rows for a verifier with `dpop: { mode: 'allowed', externalUrl, algorithms }`. */
export const dpopAllowedCases: readonly Case[] = [
  {
    name: 'challenges with Bearer and DPoP (algs) when no token is sent',
    request: async () => ({ path: '/me' }),
    expect: {
      status: 401,
      wwwAuthenticate: `Bearer realm="api", DPoP realm="api", ${ALGS}`,
      body: { error: 'unauthorized', error_description: 'No access token was sent' },
    },
  },
  {
    name: 'accepts a bound JWT with a valid proof',
    request: async ({ idp }) => {
      const token = await boundToken(idp);
      return dpop(token, await proof(token));
    },
    expect: CALLER('jwt'),
  },
  {
    name: 'accepts a bound opaque token (introspected cnf.jkt) with a valid proof',
    request: async ({ idp }) => {
      const token = await idp.mintAccessToken({ subject: 'user-1', format: 'opaque' });
      return dpop(token, await proof(token));
    },
    fault: ['introspect', { addFields: { token_type: 'DPoP', cnf: { jkt } } }],
    expect: CALLER('opaque'),
  },
  {
    name: 'refuses a bound token sent as Bearer (no downgrade) with invalid_token',
    request: async ({ idp }) => ({
      path: '/me',
      headers: { authorization: `Bearer ${await boundToken(idp)}` },
    }),
    expect: allowedRefusal(
      401,
      'Bearer',
      'invalid_token',
      'The access token must be sent with a DPoP proof',
    ),
  },
  {
    name: 'refuses the DPoP scheme without a proof with invalid_request (400)',
    request: async ({ idp }) => dpop(await boundToken(idp), undefined),
    expect: allowedRefusal(400, 'DPoP', 'invalid_request', 'Exactly one DPoP proof is required'),
  },
  {
    name: 'refuses two DPoP proof headers with invalid_request (400)',
    request: async ({ idp }) => {
      const token = await boundToken(idp);
      return dpop(token, [await proof(token), await proof(token)]);
    },
    expect: allowedRefusal(400, 'DPoP', 'invalid_request', 'Exactly one DPoP proof is required'),
  },
  {
    name: 'refuses a proof for another URL with invalid_dpop_proof',
    request: async ({ idp }) => {
      const token = await boundToken(idp);
      return dpop(token, await proof(token, `${EXTERNAL_URL}/admin`));
    },
    expect: allowedRefusal(401, 'DPoP', 'invalid_dpop_proof', 'The DPoP proof is invalid'),
  },
  {
    name: 'refuses a token bound to another key with invalid_token',
    request: async ({ idp }) => {
      const token = await boundToken(idp, {}, false);
      return dpop(token, await proof(token));
    },
    expect: allowedRefusal(
      401,
      'DPoP',
      'invalid_token',
      'The access token is not bound to the DPoP proof key',
    ),
  },
  {
    name: 'answers a guard refusal of a bound token with insufficient_scope on the DPoP challenge',
    request: async ({ idp }) => {
      const token = await boundToken(idp, { roles: ['reader'] });
      return dpop(token, await proof(token, `${EXTERNAL_URL}/admin`), '/admin');
    },
    expect: allowedRefusal(
      403,
      'DPoP',
      'insufficient_scope',
      'The access token does not grant the required permission',
    ),
  },
  {
    name: 'answers a guard refusal of a bearer token with insufficient_scope on the Bearer challenge',
    request: async ({ idp }) => ({
      path: '/admin',
      headers: {
        authorization: `Bearer ${await idp.mintAccessToken({ subject: 'user-1', roles: ['reader'] })}`,
      },
    }),
    expect: allowedRefusal(
      403,
      'Bearer',
      'insufficient_scope',
      'The access token does not grant the required permission',
    ),
  },
];

/** Rows for a verifier with `dpop: { mode: 'required', … }`: the DPoP challenge alone. */
export const dpopRequiredCases: readonly Case[] = [
  {
    name: 'challenges with DPoP alone when no token is sent',
    request: async () => ({ path: '/me' }),
    expect: {
      status: 401,
      wwwAuthenticate: `DPoP realm="api", ${ALGS}`,
      body: { error: 'unauthorized', error_description: 'No access token was sent' },
    },
  },
  {
    name: 'refuses an unbound bearer token with invalid_token on the DPoP challenge',
    request: async ({ idp }) => ({
      path: '/me',
      headers: { authorization: `Bearer ${await idp.mintAccessToken({ subject: 'user-1' })}` },
    }),
    expect: {
      status: 401,
      wwwAuthenticate: `DPoP realm="api", ${params('invalid_token', 'The access token must be sent with a DPoP proof')}, ${ALGS}`,
      body: {
        error: 'invalid_token',
        error_description: 'The access token must be sent with a DPoP proof',
      },
    },
  },
  {
    name: 'answers a guard refusal with insufficient_scope on the DPoP challenge alone',
    request: async ({ idp }) => {
      const token = await boundToken(idp, { roles: ['reader'] });
      return dpop(token, await proof(token, `${EXTERNAL_URL}/admin`), '/admin');
    },
    expect: {
      status: 403,
      wwwAuthenticate: `DPoP realm="api", ${params('insufficient_scope', 'The access token does not grant the required permission')}, ${ALGS}`,
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token does not grant the required permission',
      },
    },
  },
];
