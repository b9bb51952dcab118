/**
 * Protected resource metadata (RFC 9728): the resource identifier check, the well-known
 * URL rule for path-suffixed resources, the document built from single- and multi-issuer
 * verifiers, signed metadata, and `resource_metadata` in every challenge.
 */
import { generateKeyPairSync, type webcrypto } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { InsufficientScopeError } from '../../src/index.js';
import {
  checkResourceIdentifier,
  createMultiIssuerVerifier,
  createProtectedResource,
  createVerifier,
  requireScopes,
  resourceMetadataUrl,
  UpstreamError,
  ZitauthConfigError,
  type ProtectedResourceOptions,
  type Verifier,
  type ZitauthError,
} from '../../src/index.js';

const ISSUER = 'https://issuer.example.com';
const RESOURCE = 'https://api.example.com/v1';
const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/v1';

function verifierWith(protectedResource: ProtectedResourceOptions, extra = {}): Verifier {
  return createVerifier({ issuer: ISSUER, projectId: 'p1', protectedResource, ...extra });
}

async function documentOf(verifier: Verifier): Promise<Record<string, unknown>> {
  const { body } = await verifier.protectedResource!.response();
  return JSON.parse(body) as Record<string, unknown>;
}

/** The error an authenticate call rejects with. */
async function refusal(promise: Promise<unknown>): Promise<ZitauthError> {
  return promise.then(
    () => expect.fail('expected a refusal'),
    (error: unknown) => error as ZitauthError,
  );
}

describe('resourceMetadataUrl', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
    [RESOURCE, METADATA],
    [
      'https://api.example.com:8443/tenants/a/',
      'https://api.example.com:8443/.well-known/oauth-protected-resource/tenants/a/',
    ],
    ['http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp'],
  ])('puts the well-known segment between host and path: %s', (resource, url) => {
    expect(resourceMetadataUrl(resource)).toBe(url);
  });
});

describe('checkResourceIdentifier', () => {
  it('accepts https anywhere and http on loopback, unchanged', () => {
    expect(checkResourceIdentifier(RESOURCE)).toBe(RESOURCE);
    expect(checkResourceIdentifier('http://localhost:8080')).toBe('http://localhost:8080');
  });

  it.each([
    [undefined, /resource must be a non-empty URL/],
    ['', /resource must be a non-empty URL/],
    ['api.example.com', /absolute URL/],
    ['http://api.example.com', /must use https/],
    ['ftp://api.example.com', /must use https/],
    ['https://api.example.com/v1#top', /fragment/],
    ['https://api.example.com/v1#', /fragment/],
    ['https://api.example.com/v1?tenant=a', /query/],
    ['https://user:pw@api.example.com', /credentials/],
  ])('refuses %s at start-up with a message saying what to fix', (value, message) => {
    expect(() => checkResourceIdentifier(value)).toThrow(ZitauthConfigError);
    expect(() => checkResourceIdentifier(value)).toThrow(message);
    expect(() => verifierWith({ resource: value as string })).toThrow(message);
  });
});

describe('the metadata document', () => {
  it('names the resource, the issuer and the header as the way to send tokens', async () => {
    const verifier = verifierWith({ resource: RESOURCE });
    expect(verifier.protectedResource).toMatchObject({
      resource: RESOURCE,
      metadataUrl: METADATA,
      metadataPath: '/.well-known/oauth-protected-resource/v1',
    });
    expect(await documentOf(verifier)).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
    });
    verifier.close();
  });

  it('adds scopes, name, documentation and the transports turned on, in RFC order', async () => {
    const verifier = verifierWith(
      {
        resource: RESOURCE,
        scopes: ['quotes:read', 'quotes:write'],
        resourceName: 'Quotes API',
        resourceDocumentation: 'https://docs.example.com/quotes',
      },
      { tokenTransport: { body: true, query: true } },
    );
    const { body, headers } = await verifier.protectedResource!.response();
    expect(body).toBe(
      JSON.stringify({
        resource: RESOURCE,
        authorization_servers: [ISSUER],
        bearer_methods_supported: ['header', 'body', 'query'],
        scopes_supported: ['quotes:read', 'quotes:write'],
        resource_name: 'Quotes API',
        resource_documentation: 'https://docs.example.com/quotes',
      }),
    );
    expect(headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=3600',
      'Access-Control-Allow-Origin': '*',
    });
    verifier.close();
  });

  it('lists every issuer of a multi-issuer verifier, in configured order', async () => {
    const verifier = createMultiIssuerVerifier({
      issuers: [
        { issuer: ISSUER, projectId: 'p1' },
        { issuer: 'https://other.example.com', audience: 'api' },
      ],
      protectedResource: { resource: RESOURCE, maxAgeSeconds: 60 },
    });
    expect(await documentOf(verifier)).toMatchObject({
      authorization_servers: [ISSUER, 'https://other.example.com'],
    });
    expect((await verifier.protectedResource!.response()).headers['Cache-Control']).toBe(
      'public, max-age=60',
    );
    verifier.close();
  });

  it('takes authorization servers when given, and DPoP algorithms from the context', async () => {
    const resource = createProtectedResource(
      { resource: RESOURCE, authorizationServers: ['https://as.example.com'] },
      { issuers: [ISSUER], bearerMethods: ['header'], dpopAlgorithms: ['ES256'] },
    );
    expect(JSON.parse((await resource.response()).body)).toEqual({
      resource: RESOURCE,
      authorization_servers: ['https://as.example.com'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256'],
    });
  });

  it.each([
    [{ resource: RESOURCE, scopes: 'quotes:read' }, /scopes must be an array/],
    [{ resource: RESOURCE, scopes: [''] }, /scopes must be an array/],
    [{ resource: RESOURCE, authorizationServers: ['http://as.example.com'] }, /https/],
    [{ resource: RESOURCE, resourceName: '' }, /resourceName/],
    [{ resource: RESOURCE, resourceDocumentation: 'docs' }, /resourceDocumentation/],
    [{ resource: RESOURCE, maxAgeSeconds: 1.5 }, /maxAgeSeconds/],
  ])('refuses a bad setting at start-up: %j', (options, message) => {
    expect(() => verifierWith(options as ProtectedResourceOptions)).toThrow(message);
  });

  it('refuses protectedResource that is not an object', () => {
    expect(() => verifierWith('https://api.example.com' as never)).toThrow(
      /protectedResource must be/,
    );
  });
});

describe('signed metadata', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('sends the document as a JWT signed with the given key, iss the resource', async () => {
    const verifier = verifierWith({
      resource: RESOURCE,
      scopes: ['a'],
      signedMetadata: { key: privateKey, alg: 'ES256', kid: 'meta-1' },
    });
    const first = await verifier.protectedResource!.response();
    const document = JSON.parse(first.body) as { signed_metadata: string };
    expect(decodeProtectedHeader(document.signed_metadata)).toEqual({
      alg: 'ES256',
      kid: 'meta-1',
    });
    const { payload } = await jwtVerify(document.signed_metadata, publicKey, {
      issuer: RESOURCE,
    });
    expect(payload).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ['a'],
    });
    // Signed once: the same bytes on every request.
    expect((await verifier.protectedResource!.response()).body).toBe(first.body);
    verifier.close();
  });

  it('accepts a private JWK and a named issuer', async () => {
    const jwk = await exportJWK(generateKeyPairSync('ed25519').privateKey);
    const verifier = verifierWith({
      resource: RESOURCE,
      signedMetadata: { key: jwk, alg: 'EdDSA', issuer: 'https://attester.example.com' },
    });
    const { signed_metadata } = await documentOf(verifier);
    expect(decodeProtectedHeader(signed_metadata as string).alg).toBe('EdDSA');
    verifier.close();
  });

  it('accepts a Web Crypto private key', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const verifier = verifierWith({
      resource: RESOURCE,
      signedMetadata: { key: pair.privateKey, alg: 'Ed25519' },
    });
    const { signed_metadata } = await documentOf(verifier);
    const { payload } = await jwtVerify(signed_metadata as string, pair.publicKey);
    expect(payload.iss).toBe(RESOURCE);
    verifier.close();
  });

  it.each([
    [{ key: publicKey, alg: 'ES256' }, /must be a private key/],
    [{ key: { kty: 'oct', k: 'c2VjcmV0' }, alg: 'HS256' }, /private KeyObject, CryptoKey or JWK/],
    [{ key: privateKey, alg: 'RS256' }, /cannot be made with this key \(ec:prime256v1\)/],
    [{ key: privateKey, alg: 'none' }, /cannot be made/],
    [
      {
        key: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
        alg: 'RS256',
      },
      /at least 2048 bits/,
    ],
  ])('refuses a key that cannot sign at start-up (%#)', (signedMetadata, message) => {
    expect(() =>
      verifierWith({ resource: RESOURCE, signedMetadata } as ProtectedResourceOptions),
    ).toThrow(message);
  });
});

describe('resource_metadata in challenges', () => {
  const WITH = `resource_metadata="${METADATA}"`;

  it('is added to the bare challenge and to invalid_request and invalid_token', async () => {
    const verifier = verifierWith({ resource: RESOURCE }, { realm: 'quotes' });
    expect((await refusal(verifier.authenticate({}))).headers['WWW-Authenticate']).toBe(
      `Bearer realm="quotes", ${WITH}`,
    );
    expect(() => verifier.authenticateSync!({})).toThrow(
      expect.objectContaining({
        headers: { 'WWW-Authenticate': `Bearer realm="quotes", ${WITH}` },
      }) as Error,
    );
    const twice = await refusal(verifier.authenticate({ authorization: ['Bearer a', 'Bearer b'] }));
    expect(twice.headers['WWW-Authenticate']).toBe(
      `Bearer realm="quotes", error="invalid_request", error_description="More than one access token was sent", ${WITH}`,
    );
    const opaque = await refusal(verifier.verify('a.b.c'));
    expect(opaque.headers['WWW-Authenticate']).toBe(
      `Bearer realm="quotes", error="invalid_token", error_description="The access token type is not accepted", ${WITH}`,
    );
    // A remembered refusal carries it too.
    const again = await refusal(verifier.verify('a.b.c'));
    expect(again.headers['WWW-Authenticate']).toBe(opaque.headers['WWW-Authenticate']);
    verifier.close();
  });

  it('is added to a 503 when the IdP cannot be reached', async () => {
    const verifier = verifierWith(
      { resource: RESOURCE },
      {
        fetch: () => Promise.reject(new TypeError('fetch failed')),
        introspection: { clientId: 'c', clientSecret: 's' },
      },
    );
    const error = await refusal(verifier.verify('opaque-token'));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.headers['WWW-Authenticate']).toBe(`Bearer realm="api", ${WITH}`);
    verifier.close();
  });

  it('is added to insufficient_scope after the scope, from the check context', () => {
    const check = requireScopes('quotes:write');
    const caller = { tokenKind: 'opaque', scopes: [], claims: {} } as never;
    expect(() => check(caller, { realm: 'api', resourceMetadata: METADATA })).toThrow(
      expect.objectContaining({
        headers: {
          'WWW-Authenticate': `Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission", scope="quotes:write", ${WITH}`,
        },
      }) as InsufficientScopeError,
    );
  });

  it('is added by a multi-issuer verifier, to routing refusals too', async () => {
    const verifier = createMultiIssuerVerifier({
      issuers: [{ issuer: ISSUER, projectId: 'p1' }],
      protectedResource: { resource: RESOURCE },
    });
    expect((await refusal(verifier.authenticate({}))).headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", ${WITH}`,
    );
    const opaque = await refusal(verifier.verify('opaque'));
    expect(opaque.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="The access token type is not accepted", ${WITH}`,
    );
    verifier.close();
  });

  it('is absent when no protected resource is configured', async () => {
    const verifier = createVerifier({ issuer: ISSUER, projectId: 'p1' });
    expect(verifier.protectedResource).toBeUndefined();
    expect((await refusal(verifier.authenticate({}))).headers['WWW-Authenticate']).toBe(
      'Bearer realm="api"',
    );
    verifier.close();
  });
});

describe('with DPoP on', () => {
  it('lists the proof algorithms, and says bound tokens are required in required mode', async () => {
    const required = verifierWith(
      { resource: RESOURCE },
      { dpop: { mode: 'required', algorithms: ['ES256', 'EdDSA'] } },
    );
    expect(await documentOf(required)).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: true,
    });
    required.close();
    const allowed = verifierWith({ resource: RESOURCE }, { dpop: 'allowed' });
    const document = await documentOf(allowed);
    expect(document['dpop_signing_alg_values_supported']).toContain('ES256');
    expect(document).not.toHaveProperty('dpop_bound_access_tokens_required');
    allowed.close();
  });

  it('names the metadata in both the Bearer and the DPoP challenge', async () => {
    const verifier = verifierWith(
      { resource: RESOURCE },
      { dpop: { mode: 'allowed', algorithms: ['ES256'] } },
    );
    const error = await refusal(verifier.authenticate({}));
    expect(error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${METADATA}", DPoP realm="api", resource_metadata="${METADATA}", algs="ES256"`,
    );
    verifier.close();
  });
});
