/**
 * The conformance table: one list of requests and the exact answer every adapter must
 * give (status, `WWW-Authenticate`, `Retry-After`, JSON body). Requests are built per
 * run from the testing IdP, so each run gets fresh tokens and no cache hides a bug.
 */
import type { Endpoint, Fault, Org, TestIdp } from '@zitauth/testing';
import type { TestRequest } from './apps.js';
import { ORG_HEADER, SCOPE } from './apps.js';

/** What a case may use to build its request. */
export interface CaseEnv {
  idp: TestIdp;
  /** An organisation other than the IdP's default one. */
  otherOrg: Org;
}

/** The answer a case expects. `body` is compared as parsed JSON. */
export interface Expected {
  status: number;
  wwwAuthenticate?: string;
  retryAfter?: string;
  /** @default 'application/json; charset=utf-8' */
  contentType?: string;
  /** Checked when given. */
  cacheControl?: string;
  body: unknown;
}

/** One row of the table. */
export interface Case {
  name: string;
  request: (env: CaseEnv) => Promise<TestRequest>;
  /** A fault injected into the IdP while this case's request runs. */
  fault?: [Endpoint, Fault];
  expect: Expected | ((env: CaseEnv) => Expected);
}

const SUBJECT = 'user-1';
const BARE = 'Bearer realm="api"';

function challenge(error: string, description: string, scope?: string): string {
  const scopePart = scope === undefined ? '' : `, scope="${scope}"`;
  return `Bearer realm="api", error="${error}", error_description="${description}"${scopePart}`;
}

/** A refusal with an RFC 6750 error code in both the challenge and the body. */
function refused(status: number, error: string, description: string, scope?: string): Expected {
  return {
    status,
    wwwAuthenticate: challenge(error, description, scope),
    body: { error, error_description: description },
  };
}

const NO_TOKEN: Expected = {
  status: 401,
  wwwAuthenticate: BARE,
  body: { error: 'unauthorized', error_description: 'No access token was sent' },
};
const FORBIDDEN = refused(
  403,
  'insufficient_scope',
  'The access token does not grant the required permission',
);
const invalidToken = (description: string): Expected => refused(401, 'invalid_token', description);
const EXPIRED = invalidToken('The access token expired');
const MALFORMED = invalidToken('The access token is malformed');
const INVALID_CLAIM = invalidToken('The access token has an invalid claim');
const TOKEN_TYPE = invalidToken('The access token type is not accepted');
const TWO_TOKENS = refused(400, 'invalid_request', 'More than one access token was sent');
const INACTIVE = invalidToken('The access token is not active');
/** A guard with no authentication before it: the server's mistake, with no challenge. */
const MISUSE: Expected = {
  status: 500,
  body: {
    error: 'server_error',
    error_description: 'Access to this resource is not set up correctly on the server',
  },
};

/**
 * A 200 from a protected route: the caller as the routes describe it. `orgId` is null
 * unless the token was issued for the `urn:zitadel:iam:user:resourceowner` scope, as
 * ZITADEL sends the organisation claims only then.
 */
function caller(tokenKind: 'jwt' | 'opaque' = 'jwt', withOrg = false) {
  return (env: CaseEnv): Expected => ({
    status: 200,
    body: { subject: SUBJECT, orgId: withOrg ? env.idp.defaultOrg.id : null, tokenKind },
  });
}

const RESOURCE_OWNER_SCOPE = 'openid urn:zitadel:iam:user:resourceowner';

function get(path: string, headers: Record<string, string | string[]> = {}): TestRequest {
  return { path, headers };
}

/** A request to `path` with `Authorization: Bearer <token>`. */
function bearer(path: string, token: string, headers: Record<string, string> = {}): TestRequest {
  return get(path, { authorization: `Bearer ${token}`, ...headers });
}

type MintOptions = Parameters<TestIdp['mintAccessToken']>[0];

/**
 * Mints an access token for `SUBJECT` and sends it to `path`, optionally altered on the way
 * (`credential`) or also placed in the path (`pathOf`).
 */
function withToken(
  path: string,
  options: MintOptions = {},
  headers: Record<string, string> = {},
  credential: (token: string) => string = (token) => token,
  pathOf: (token: string) => string = () => path,
) {
  return async ({ idp }: CaseEnv) => {
    const token = await idp.mintAccessToken({ subject: SUBJECT, ...options });
    return bearer(pathOf(token), credential(token), headers);
  };
}

/**
 * The same token with its signature's last character changed in bits base64url leaves
 * unused: lenient decoders read the same bytes, so the signature would still verify.
 */
function nonCanonical(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token.at(-1) ?? 'A');
  return token.slice(0, -1) + alphabet[last ^ 1];
}

/** An admin role granted only in the other organisation. */
function adminElsewhere(env: CaseEnv): MintOptions {
  return { roles: { admin: { [env.otherOrg.id]: env.otherOrg.primaryDomain } } };
}

/** A JWT with a flipped signature character: well formed, correctly keyed, forged. */
async function badSignature({ idp }: CaseEnv): Promise<TestRequest> {
  const token = await idp.mintAccessToken({ subject: SUBJECT });
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return bearer('/me', `${token.slice(0, -2)}${last}${token.slice(-1)}`);
}

/** Claims of a valid access token, for tokens signed by hand. */
function accessClaims(idp: TestIdp): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: idp.issuer,
    sub: SUBJECT,
    aud: [idp.defaultProject.id],
    client_id: idp.defaultProject.clientId,
    jti: `V2_${now}-at_1`,
    iat: now,
    exp: now + 600,
  };
}

/** Signs `accessClaims` with `overrides` (undefined removes a claim) and sends it to `path`. */
function signed(
  overrides: Record<string, unknown>,
  header: Record<string, unknown> = {},
  path = '/me',
) {
  return async ({ idp }: CaseEnv): Promise<TestRequest> => {
    const claims = { ...accessClaims(idp), ...overrides };
    for (const [name, value] of Object.entries(overrides))
      if (value === undefined) delete claims[name];
    return bearer(path, await idp.signJwt({ alg: 'RS256', typ: 'JWT', ...header }, claims));
  };
}

const UNAVAILABLE: Expected = {
  status: 503,
  wwwAuthenticate: BARE,
  retryAfter: '5',
  body: {
    error: 'temporarily_unavailable',
    error_description: 'The token could not be checked; try again later',
  },
};

const authentication: Case[] = [
  {
    name: 'answers a public route without a token',
    request: async () => get('/public'),
    expect: { status: 200, body: { public: true } },
  },
  {
    name: 'refuses a request without credentials with a bare challenge',
    request: async () => get('/me'),
    expect: NO_TOKEN,
  },
  {
    name: 'treats another scheme (Basic) as no credentials',
    request: async () => get('/me', { authorization: 'Basic dXNlcjpwYXNz' }),
    expect: NO_TOKEN,
  },
  {
    name: 'treats the Bearer scheme with nothing after it as no token',
    request: async () => get('/me', { authorization: 'Bearer ' }),
    expect: NO_TOKEN,
  },
  {
    name: 'refuses a credential with extra words with invalid_token',
    request: withToken('/me', {}, {}, (token) => `${token} extra`),
    expect: MALFORMED,
  },
  {
    name: 'refuses a JWS in JSON serialization with invalid_token',
    request: async () => bearer('/me', '{"payload":"e30","signatures":[{"signature":"c2ln"}]}'),
    expect: MALFORMED,
  },
  {
    name: 'refuses a JWT in padded base64url with invalid_token',
    request: withToken('/me', {}, {}, (token) => `${token}==`),
    expect: MALFORMED,
  },
  {
    name: 'refuses a JWT in non-canonical base64url (same bytes, other spelling) with invalid_token',
    request: withToken('/me', {}, {}, nonCanonical),
    expect: MALFORMED,
  },
  {
    name: 'refuses an unencoded-payload JWS (b64: false) with invalid_token',
    request: withToken('/me', {}, {}, (token) => {
      const header = { alg: 'RS256', typ: 'JWT', b64: false, crit: ['b64'] };
      const encoded = Buffer.from(JSON.stringify(header)).toString('base64url');
      return [encoded, ...token.split('.').slice(1)].join('.');
    }),
    expect: MALFORMED,
  },
  {
    name: 'refuses a header token and a query token together, query transport off',
    request: withToken(
      '/me',
      {},
      {},
      (token) => token,
      (token) => `/me?access_token=${token}`,
    ),
    expect: TWO_TOKENS,
  },
  {
    name: 'refuses a header token and a form body token together, body transport off',
    request: async ({ idp }) => {
      const token = await idp.mintAccessToken({ subject: SUBJECT });
      return { ...bearer('/me', token), body: { form: { access_token: token } } };
    },
    expect: TWO_TOKENS,
  },
  {
    name: 'refuses two Authorization headers with invalid_request',
    request: async ({ idp }) => {
      const token = await idp.mintAccessToken({ subject: SUBJECT });
      return get('/me', { authorization: [`Bearer ${token}`, `Bearer ${token}`] });
    },
    expect: TWO_TOKENS,
  },
  {
    name: 'refuses a malformed JWT with invalid_token',
    request: async () => bearer('/me', 'eyJub3QganNvbg.e30.c2ln'),
    expect: invalidToken('The access token is malformed'),
  },
  {
    name: 'refuses a token over the size cap with invalid_token',
    request: async () => bearer('/me', 'a'.repeat(9000)),
    expect: invalidToken('The access token is too large'),
  },
  {
    name: 'refuses a bad signature with invalid_token',
    request: badSignature,
    expect: invalidToken('The access token signature is invalid'),
  },
  {
    name: 'refuses an unknown signing key with invalid_token',
    request: async ({ idp }) =>
      bearer(
        '/me',
        await idp.signJwt({ alg: 'RS256', typ: 'JWT', kid: 'unknown-kid' }, accessClaims(idp)),
      ),
    expect: invalidToken('The access token signing key is unknown'),
  },
  {
    name: 'refuses an expired token with invalid_token',
    request: withToken('/me', { expiresInSeconds: -600 }),
    expect: EXPIRED,
  },
  {
    name: 'refuses a token for another audience with invalid_token',
    request: withToken('/me', { audience: ['another-api'] }),
    expect: invalidToken('The access token is not meant for this API'),
  },
  {
    name: 'refuses a token of another issuer with invalid_token',
    request: withToken('/me', { claims: { iss: 'https://evil.example' } }),
    expect: invalidToken('The access token issuer is not trusted'),
  },
  {
    name: 'refuses an unsigned token (alg none) with invalid_token',
    request: async ({ idp }) =>
      bearer('/me', await idp.signJwt({ alg: 'none', typ: 'JWT' }, accessClaims(idp))),
    expect: invalidToken('The access token algorithm is not allowed'),
  },
  {
    name: 'refuses an ID token with invalid_token',
    request: async ({ idp }) => bearer('/me', await idp.mintIdToken({ subject: SUBJECT })),
    expect: invalidToken('An ID token is not an access token'),
  },
  {
    name: 'refuses an explicitly typed other JWT (logout+jwt) with invalid_token',
    request: signed({}, { typ: 'logout+jwt' }),
    expect: TOKEN_TYPE,
  },
  {
    name: 'accepts typ at+jwt in any case',
    request: withToken('/me', { header: { typ: 'AT+JWT' } }),
    expect: caller('jwt'),
  },
  {
    name: 'refuses a token living longer than the maximum lifetime with invalid_token',
    request: signed({ exp: Math.floor(Date.now() / 1000) + 2 * 86_400 }),
    expect: invalidToken('The access token lifetime is too long'),
  },
  {
    name: 'refuses exp written in milliseconds with invalid_token',
    request: signed({ exp: Date.now() + 600_000 }),
    expect: invalidToken('The access token lifetime is too long'),
  },
  {
    name: 'refuses nbf after exp even within the clock tolerance with invalid_token',
    request: async (env) => {
      const now = Math.floor(Date.now() / 1000);
      return signed({ exp: now + 2, nbf: now + 4 })(env);
    },
    expect: INVALID_CLAIM,
  },
  {
    name: 'refuses a JWT without iat with invalid_token',
    request: signed({ iat: undefined }),
    expect: INVALID_CLAIM,
  },
  {
    name: 'refuses a JWT without client_id with invalid_token',
    request: signed({ client_id: undefined }),
    expect: INVALID_CLAIM,
  },
  { name: 'accepts a JWT access token', request: withToken('/me'), expect: caller('jwt') },
  {
    name: 'reads the organisation of a token issued for the resourceowner scope',
    request: withToken('/me', { scope: RESOURCE_OWNER_SCOPE }),
    expect: caller('jwt', true),
  },
  {
    name: 'reads the organisation of an opaque token issued for the resourceowner scope',
    request: withToken('/me', { format: 'opaque', scope: RESOURCE_OWNER_SCOPE }),
    expect: caller('opaque', true),
  },
  {
    name: 'accepts the scheme in any case',
    request: async ({ idp }) =>
      get('/me', { authorization: `bEaReR ${await idp.mintAccessToken({ subject: SUBJECT })}` }),
    expect: caller('jwt'),
  },
  {
    name: 'accepts an active opaque token by introspection',
    request: withToken('/me', { format: 'opaque' }),
    expect: caller('opaque'),
  },
  {
    name: 'answers 503 when the introspection answer is not JSON by its Content-Type',
    request: withToken('/me', { format: 'opaque' }),
    fault: ['introspect', { contentType: 'text/html' }],
    expect: UNAVAILABLE,
  },
  {
    name: 'refuses an inactive opaque token with invalid_token',
    request: async () => bearer('/me', 'never-issued-opaque-token'),
    expect: INACTIVE,
  },
  {
    name: 'answers 503, not inactive, when the introspection answer has no active',
    request: withToken('/me', { format: 'opaque' }),
    fault: ['introspect', { omitFields: ['active'] }],
    expect: UNAVAILABLE,
  },
  {
    name: 'refuses a revoked opaque token with invalid_token',
    request: async ({ idp }) => {
      const token = await idp.mintAccessToken({ subject: SUBJECT, format: 'opaque' });
      idp.revoke(token);
      return bearer('/me', token);
    },
    expect: INACTIVE,
  },
  {
    name: 'refuses a sender-constrained opaque token (cnf) with invalid_token',
    request: withToken('/me', { format: 'opaque' }),
    fault: [
      'introspect',
      { addFields: { cnf: { jkt: 'r4aVJa8uZ0pITZ7iWt0MUu1eDVA8T7z9MWeC1Tus3NI' } } },
    ],
    expect: TOKEN_TYPE,
  },
  {
    name: 'refuses an opaque token the IdP calls a DPoP token with invalid_token',
    request: withToken('/me', { format: 'opaque' }),
    fault: ['introspect', { addFields: { token_type: 'DPoP' } }],
    expect: TOKEN_TYPE,
  },
  {
    name: 'answers 503 with Retry-After when the IdP cannot introspect',
    request: withToken('/me', { format: 'opaque' }),
    fault: ['introspect', { status: 500 }],
    expect: UNAVAILABLE,
  },
];

const optional: Case[] = [
  {
    name: 'continues without a token when auth is optional',
    request: async () => get('/optional'),
    expect: { status: 200, body: { subject: null } },
  },
  {
    name: 'attaches the caller when auth is optional and a token is sent',
    request: withToken('/optional'),
    expect: caller('jwt'),
  },
  {
    name: 'still refuses a bad token when auth is optional',
    request: withToken('/optional', { expiresInSeconds: -600 }),
    expect: EXPIRED,
  },
  {
    name: 'answers 401, not 403, to a guard when optional auth saw no token',
    request: async () => get('/optional-admin'),
    expect: NO_TOKEN,
  },
];

const authorization: Case[] = [
  {
    name: 'allows a caller holding the role',
    request: withToken('/admin', { roles: ['admin'] }),
    expect: caller('jwt'),
  },
  {
    name: 'refuses a caller without the role with 403',
    request: withToken('/admin', { roles: ['reader'] }),
    expect: FORBIDDEN,
  },
  {
    name: 'grants nothing for a ZITADEL roles claim that is a string array (403)',
    request: signed({ 'urn:zitadel:iam:org:project:roles': ['admin'] }, {}, '/admin'),
    expect: FORBIDDEN,
  },
  {
    name: 'answers 401, not 403, to a bad token on a guarded route',
    request: withToken('/admin', { roles: ['admin'], expiresInSeconds: -600 }),
    expect: EXPIRED,
  },
  {
    // The server's mistake, not the caller's: a 401 "no token" would blame a valid token.
    name: 'answers 500 to a valid token when a guard runs before authentication',
    request: withToken('/unauthenticated-admin', { roles: ['admin'] }),
    expect: MISUSE,
  },
  {
    // requireRoles for requireRoles('admin'): the framework calls the factory with its request.
    name: 'answers 500 to a valid token when a guard factory is given to a route uncalled',
    request: withToken('/uncalled-guard', { roles: ['admin'] }),
    expect: MISUSE,
  },
  {
    name: 'answers 500 without a token when a guard runs before authentication',
    request: async () => get('/unauthenticated-admin'),
    expect: MISUSE,
  },
  {
    name: 'answers 401, not 403, to no token on a guarded route',
    request: async () => get('/admin'),
    expect: NO_TOKEN,
  },
  {
    name: 'allows the role in the organisation of the route parameter',
    request: async (env) =>
      await withToken(`/orgs/${env.idp.defaultOrg.id}/admin`, { roles: ['admin'] })(env),
    expect: caller('jwt'),
  },
  {
    name: 'refuses the role held in another organisation (route parameter) with 403',
    request: async (env) =>
      withToken(`/orgs/${env.idp.defaultOrg.id}/admin`, adminElsewhere(env))(env),
    expect: FORBIDDEN,
  },
  {
    name: 'allows the role in the organisation of the header',
    request: async (env) =>
      withToken('/org-admin', { roles: ['admin'] }, { [ORG_HEADER]: env.idp.defaultOrg.id })(env),
    expect: caller('jwt'),
  },
  {
    name: 'refuses the role held in another organisation (header) with 403',
    request: async (env) =>
      withToken('/org-admin', adminElsewhere(env), { [ORG_HEADER]: env.idp.defaultOrg.id })(env),
    expect: FORBIDDEN,
  },
  {
    name: 'refuses a request that names no organisation with 403',
    request: withToken('/org-admin', { roles: ['admin'] }),
    expect: FORBIDDEN,
  },
  {
    name: 'allows an opaque token whose introspection grants the scope',
    request: withToken('/scoped', { format: 'opaque', scope: `openid ${SCOPE}` }),
    expect: caller('opaque'),
  },
  {
    // ZITADEL's JWT access tokens carry no scope claim: a scope guard refuses them.
    name: 'refuses a ZITADEL JWT on a scope guard with 403 (its JWTs carry no scope)',
    request: withToken('/scoped', { scope: `openid ${SCOPE}` }),
    expect: refused(
      403,
      'insufficient_scope',
      'The access token does not grant the required permission',
      SCOPE,
    ),
  },
  {
    name: 'refuses a token without the scope with 403 naming it',
    request: withToken('/scoped', { scope: 'openid' }),
    expect: refused(
      403,
      'insufficient_scope',
      'The access token does not grant the required permission',
      SCOPE,
    ),
  },
];

/** Every case, in the order they run. */
export const cases: readonly Case[] = [...authentication, ...optional, ...authorization];

/** Cases for verifiers that accept query and form body tokens (`tokenTransport` on). */
export const transportCases: readonly Case[] = [
  {
    name: 'accepts a query token',
    request: async ({ idp }) =>
      get(`/me?access_token=${await idp.mintAccessToken({ subject: SUBJECT })}`),
    expect: caller('jwt'),
  },
  {
    name: 'accepts a form body token of a POST',
    request: async ({ idp }) => ({
      path: '/me',
      body: { form: { access_token: await idp.mintAccessToken({ subject: SUBJECT }) } },
    }),
    expect: caller('jwt'),
  },
  {
    name: 'reads no token from a JSON body',
    request: async ({ idp }) => ({
      path: '/me',
      body: { json: { access_token: await idp.mintAccessToken({ subject: SUBJECT }) } },
    }),
    expect: NO_TOKEN,
  },
  {
    name: 'refuses a header token and a query token together',
    request: withToken(
      '/me',
      {},
      {},
      (token) => token,
      (token) => `/me?access_token=${token}`,
    ),
    expect: TWO_TOKENS,
  },
  {
    name: 'refuses a query token and a form body token together',
    request: async ({ idp }) => {
      const token = await idp.mintAccessToken({ subject: SUBJECT });
      return { path: `/me?access_token=${token}`, body: { form: { access_token: token } } };
    },
    expect: TWO_TOKENS,
  },
  {
    name: 'refuses a query token outside b64token with invalid_token',
    request: async () => get(`/me?access_token=${encodeURIComponent('{"a":1}')}`),
    expect: MALFORMED,
  },
];

/** Cases that need verifiers that have fetched nothing yet (no discovery, no keys). */
export const coldCases: readonly Case[] = [
  {
    name: 'answers 503 with Retry-After when the key set cannot be fetched',
    request: withToken('/me'),
    fault: ['keys', { status: 500 }],
    expect: UNAVAILABLE,
  },
  {
    name: 'answers 503 with Retry-After when discovery fails',
    request: withToken('/me'),
    fault: ['discovery', { status: 500 }],
    expect: UNAVAILABLE,
  },
];

/** The protected resource (RFC 9728) of the verifiers `resourceMetadataCases` run against. */
export const PROTECTED_RESOURCE = {
  resource: 'https://api.example.com/quotes',
  scopes: [SCOPE],
  resourceName: 'Quotes',
} as const;
const METADATA_PATH = '/.well-known/oauth-protected-resource/quotes';
const WITH_METADATA = `, resource_metadata="https://api.example.com${METADATA_PATH}"`;

/** An expected refusal, its challenge naming the resource metadata. */
function pointingToMetadata(expected: Expected): Expected {
  return { ...expected, wwwAuthenticate: `${expected.wwwAuthenticate}${WITH_METADATA}` };
}

/**
 * Cases for verifiers with `protectedResource`: the metadata document is served without a
 * token, and every kind of challenge (bare, invalid_request, invalid_token,
 * insufficient_scope, 503) carries `resource_metadata`.
 */
export const resourceMetadataCases: readonly Case[] = [
  {
    name: 'serves the protected resource metadata at its well-known path without a token',
    request: async () => get(METADATA_PATH),
    expect: ({ idp }) => ({
      status: 200,
      contentType: 'application/json',
      cacheControl: 'public, max-age=3600',
      body: {
        resource: PROTECTED_RESOURCE.resource,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: [SCOPE],
        resource_name: 'Quotes',
      },
    }),
  },
  {
    name: 'names the resource metadata in the bare challenge',
    request: async () => get('/me'),
    expect: pointingToMetadata(NO_TOKEN),
  },
  {
    name: 'names the resource metadata in a guard challenge after optional auth saw no token',
    request: async () => get('/optional-admin'),
    expect: pointingToMetadata(NO_TOKEN),
  },
  {
    name: 'names the resource metadata in an invalid_request challenge',
    request: async () => get('/me', { authorization: ['Bearer a', 'Bearer b'] }),
    expect: pointingToMetadata(TWO_TOKENS),
  },
  {
    name: 'names the resource metadata in an invalid_token challenge',
    request: withToken('/me', { expiresInSeconds: -600 }),
    expect: pointingToMetadata(EXPIRED),
  },
  {
    name: 'names the resource metadata in an insufficient_scope challenge, after the scope',
    request: withToken('/scoped', { format: 'opaque', scope: 'openid' }),
    expect: pointingToMetadata(
      refused(
        403,
        'insufficient_scope',
        'The access token does not grant the required permission',
        SCOPE,
      ),
    ),
  },
  {
    name: 'names the resource metadata in a role guard refusal',
    request: withToken('/admin'),
    expect: pointingToMetadata(FORBIDDEN),
  },
  {
    name: 'names the resource metadata in a 503 challenge',
    request: withToken('/me', { format: 'opaque' }),
    fault: ['introspect', { status: 500 }],
    expect: pointingToMetadata(UNAVAILABLE),
  },
];
