/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document an API serves at
 * `/.well-known/oauth-protected-resource` so that a client holding no token (an MCP
 * client, for one) learns from the API itself which authorization server issues tokens
 * for it, and the URL every `WWW-Authenticate` challenge points to (`resource_metadata`).
 *
 * Everything is decided when the verifier is built: the resource identifier is checked
 * (a wrong one would send clients to the wrong place on every request), the well-known
 * URL derived, and the JSON body built once. Signed metadata (RFC 9728 §2.2) is signed on
 * first use and then reused: the document never changes while the process runs.
 */
import { createPrivateKey, KeyObject, type JsonWebKey, type webcrypto } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { ZitauthConfigError } from '../errors.js';
import { isLoopbackHost } from '../idp/idp-url.js';

/** Where a token may be sent, as RFC 9728 `bearer_methods_supported` names it. */
export type BearerMethod = 'header' | 'body' | 'query';

/** The key that signs `signed_metadata` (RFC 9728 §2.2). */
export interface SignedMetadataOptions {
  /** A private key: a `KeyObject`, a `CryptoKey` or a private JWK. */
  key: KeyObject | webcrypto.CryptoKey | JWK;
  /** The JWS algorithm, asymmetric: e.g. `'ES256'`, `'RS256'`, `'EdDSA'`. */
  alg: string;
  /** `kid` of the JWS header, so clients pick the right key from the signer's key set. */
  kid?: string;
  /** `iss` of the signed metadata: the party vouching for it. @default the resource identifier */
  issuer?: string;
}

/** Settings of the protected resource metadata (RFC 9728). */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier: this API's public https URL as clients call it, e.g.
   * `https://api.example.com` or `https://api.example.com/v1` (http only on loopback; no
   * query, no fragment). It is sent unchanged as `resource`.
   */
  resource: string;
  /**
   * `authorization_servers`: issuer URLs of the servers that issue tokens for this API.
   * @default the verifier's issuer (every configured issuer with several)
   */
  authorizationServers?: readonly string[];
  /** `scopes_supported`: scopes a client may request for this API. @default not sent */
  scopes?: readonly string[];
  /** `resource_name`: a human-readable name of the API. @default not sent */
  resourceName?: string;
  /** `resource_documentation`: a URL of documentation for developers. @default not sent */
  resourceDocumentation?: string;
  /** Also send the metadata as a signed JWT in `signed_metadata`. @default not signed */
  signedMetadata?: SignedMetadataOptions;
  /** `max-age` of the document's `Cache-Control`, in seconds. @default 3600 */
  maxAgeSeconds?: number;
}

/** The metadata document, with RFC 9728's parameter names. */
export interface ResourceMetadataDocument {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: BearerMethod[];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  signed_metadata?: string;
}

/** What an adapter needs to serve the metadata and name it in challenges. */
export interface ProtectedResource {
  /** The resource identifier, as configured. */
  readonly resource: string;
  /** The absolute URL of the metadata document: the challenges' `resource_metadata`. */
  readonly metadataUrl: string;
  /** The path of `metadataUrl`, where an adapter serves the document. */
  readonly metadataPath: string;
  /** The document's body and response headers, the same on every call. */
  response(): Promise<ResourceMetadataResponse>;
}

/** The HTTP answer to `GET metadataPath`. */
export interface ResourceMetadataResponse {
  /** The JSON text of the document. */
  readonly body: string;
  /** `Content-Type`, `Cache-Control` and `Access-Control-Allow-Origin`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What the verifier knows that goes into the document. */
export interface ResourceMetadataContext {
  /** The trusted issuers, in configured order. */
  issuers: readonly string[];
  /** Where tokens are accepted: always the header, plus what `tokenTransport` turns on. */
  bearerMethods: readonly BearerMethod[];
  /** `dpop_signing_alg_values_supported`, when DPoP proofs are accepted. @default not sent */
  dpopAlgorithms?: readonly string[] | undefined;
  /** `dpop_bound_access_tokens_required: true`, when only DPoP-bound tokens are accepted. */
  dpopRequired?: boolean | undefined;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

function fail(message: string): never {
  throw new ZitauthConfigError(`zitauth: protectedResource.${message}`);
}

/** An absolute URL; https, or http on loopback when `loopbackHttp`. */
function parseUrl(value: unknown, name: string, loopbackHttp: boolean): URL {
  if (typeof value !== 'string' || value === '') fail(`${name} must be a non-empty URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${name} must be an absolute URL, e.g. https://api.example.com`);
  }
  const http = url.protocol === 'http:' && loopbackHttp && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !http) {
    fail(`${name} must use https (http only on localhost), got ${url.protocol}//${url.host}`);
  }
  return url;
}

/**
 * The resource identifier, checked as RFC 9728 §1.2 wants it: https (http only on
 * loopback, for local development), no fragment; no query either, as the RFC advises
 * against one; no credentials. Returned unchanged: clients compare it byte for byte.
 */
export function checkResourceIdentifier(value: unknown): string {
  const url = parseUrl(value, 'resource', true);
  if (url.hash !== '' || (value as string).includes('#')) fail('resource must not have a fragment');
  if (url.search !== '' || (value as string).includes('?')) fail('resource must not have a query');
  if (url.username !== '' || url.password !== '') fail('resource must not carry credentials');
  return value as string;
}

/**
 * The well-known URL of a resource's metadata (RFC 9728 §3.1): `/.well-known/oauth-protected-resource`
 * goes between the host and the path, so `https://api.example.com/v1` has its metadata at
 * `https://api.example.com/.well-known/oauth-protected-resource/v1`. A trailing slash after
 * the host alone is dropped.
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${WELL_KNOWN}${path}`;
}

function optionalStrings(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    fail(`${name} must be an array of non-empty strings`);
  }
  return [...(value as string[])];
}

/** JWS algorithms by the key types that can make them. */
const ALGORITHMS_BY_KEY: Record<string, readonly string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  'ec:prime256v1': ['ES256'],
  'ec:secp384r1': ['ES384'],
  'ec:secp521r1': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};

/** A Web Crypto key, told apart as jose does (the class is not on every Node global scope). */
function isCryptoKey(key: unknown): key is webcrypto.CryptoKey {
  return Object.prototype.toString.call(key) === '[object CryptoKey]';
}

/** A private key that can sign with `alg`, checked now rather than on the first request. */
function signingKey(options: SignedMetadataOptions): KeyObject {
  const { key, alg } = options;
  let keyObject: KeyObject;
  try {
    keyObject =
      key instanceof KeyObject
        ? key
        : isCryptoKey(key)
          ? KeyObject.from(key)
          : createPrivateKey({ key: key as JsonWebKey, format: 'jwk' });
  } catch {
    return fail('signedMetadata.key must be a private KeyObject, CryptoKey or JWK');
  }
  if (keyObject.type !== 'private') fail('signedMetadata.key must be a private key');
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  const type = `${keyObject.asymmetricKeyType ?? ''}${curve === undefined ? '' : `:${curve}`}`;
  if (!(ALGORITHMS_BY_KEY[type] ?? []).includes(alg)) {
    fail(`signedMetadata.alg "${String(alg).slice(0, 20)}" cannot be made with this key (${type})`);
  }
  // jose refuses to sign with a shorter RSA key: say so now, not on the first request.
  if ((keyObject.asymmetricKeyDetails?.modulusLength ?? 2048) < 2048) {
    fail('signedMetadata.key: RSA keys need at least 2048 bits');
  }
  return keyObject;
}

function maxAge(value: unknown): number {
  if (value === undefined) return 3600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail('maxAgeSeconds must be a whole number of seconds ≥ 0');
  }
  return value;
}

/** The unsigned document: parameters in RFC 9728's order, unset ones left out. */
function buildDocument(
  options: ProtectedResourceOptions,
  context: ResourceMetadataContext,
): ResourceMetadataDocument {
  const servers = optionalStrings(options.authorizationServers, 'authorizationServers');
  for (const server of servers ?? []) parseUrl(server, 'authorizationServers', true);
  const scopes = optionalStrings(options.scopes, 'scopes');
  const document: ResourceMetadataDocument = {
    resource: options.resource,
    authorization_servers: servers ?? [...context.issuers],
    bearer_methods_supported: [...context.bearerMethods],
  };
  if (scopes !== undefined) document.scopes_supported = scopes;
  if (options.resourceName !== undefined) {
    if (typeof options.resourceName !== 'string' || options.resourceName === '') {
      fail('resourceName must be a non-empty string');
    }
    document.resource_name = options.resourceName;
  }
  if (options.resourceDocumentation !== undefined) {
    parseUrl(options.resourceDocumentation, 'resourceDocumentation', true);
    document.resource_documentation = options.resourceDocumentation;
  }
  if (context.dpopAlgorithms !== undefined) {
    document.dpop_signing_alg_values_supported = [...context.dpopAlgorithms];
  }
  if (context.dpopRequired === true) document.dpop_bound_access_tokens_required = true;
  return document;
}

/**
 * The signed answer, made on first use and then reused (the document never changes);
 * a failed signature is not kept, so the next request tries again.
 */
function signedResponse(
  document: ResourceMetadataDocument,
  options: SignedMetadataOptions,
  resource: string,
  headers: ResourceMetadataResponse['headers'],
): () => Promise<ResourceMetadataResponse> {
  const key = signingKey(options);
  const issuer = options.issuer === undefined ? resource : options.issuer;
  if (typeof issuer !== 'string' || issuer === '') fail('signedMetadata.issuer must be a string');
  const header = { alg: options.alg, ...(options.kid === undefined ? {} : { kid: options.kid }) };
  let answer: Promise<ResourceMetadataResponse> | undefined;
  const sign = async (): Promise<ResourceMetadataResponse> => {
    const jwt = await new SignJWT({ ...document })
      .setProtectedHeader(header)
      .setIssuer(issuer)
      .setIssuedAt()
      .sign(key);
    return Object.freeze({ body: JSON.stringify({ ...document, signed_metadata: jwt }), headers });
  };
  return () =>
    (answer ??= sign().catch((error: unknown) => {
      answer = undefined;
      throw error;
    }));
}

/**
 * Checks `options` and builds what adapters serve. Throws `ZitauthConfigError` naming
 * the option to fix.
 */
export function createProtectedResource(
  options: ProtectedResourceOptions,
  context: ResourceMetadataContext,
): ProtectedResource {
  if (typeof options !== 'object' || options === null) {
    throw new ZitauthConfigError(
      'zitauth: protectedResource must be { resource, scopes?, … } with resource your API URL',
    );
  }
  const resource = checkResourceIdentifier(options.resource);
  const metadataUrl = resourceMetadataUrl(resource);
  const document = buildDocument(options, context);
  const headers = Object.freeze({
    'Content-Type': 'application/json',
    'Cache-Control': `public, max-age=${maxAge(options.maxAgeSeconds)}`,
    // Public by design (RFC 9728 §2), and browser-based clients read it across origins.
    'Access-Control-Allow-Origin': '*',
  });
  const plain: ResourceMetadataResponse = Object.freeze({
    body: JSON.stringify(document),
    headers,
  });
  const response =
    options.signedMetadata === undefined
      ? () => Promise.resolve(plain)
      : signedResponse(document, options.signedMetadata, resource, headers);
  return Object.freeze({
    resource,
    metadataUrl,
    metadataPath: new URL(metadataUrl).pathname,
    response,
  });
}
