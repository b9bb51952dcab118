/**
 * An independent, OpenID-certified authorization server for the interop suite:
 * `oidc-provider` running in-process on 127.0.0.1, configured the way a generic resource
 * server deployment would be. Four resource servers (RFC 8707 resource indicators) get
 * access tokens: JWTs signed with RS256, ES256 or EdDSA, and opaque tokens checked by
 * introspection. Clients cover introspection with `client_secret_basic` and
 * `private_key_jwt` (from a ZITADEL-style application key file), the client credentials
 * grant, and a web app whose login is scripted over HTTP through the interaction routes.
 * DPoP (RFC 9449, on by default in oidc-provider) binds a token to the client's key when
 * its token request carries a proof: `cnf.jkt` in a JWT and in the introspection answer.
 *
 * `restart(keys)` swaps in a new provider with another key set on the same port, which
 * is what a key rotation looks like from a resource server: a new `kid`, no warning.
 */
import {
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApplicationKeyFile } from '@zitauth/core';

// oidc-provider prints notices about its development defaults and about the Node.js
// release line on the console. They are expected here and would bury real output, so
// only those lines are dropped; the import waits until the filter is in place.
const sink: Pick<Console, 'info' | 'warn'> = console;
for (const level of ['info', 'warn'] as const) {
  const original = sink[level].bind(sink);
  sink[level] = (...args: unknown[]): void => {
    const [first] = args;
    if (typeof first === 'string' && /oidc-provider (?:NOTICE|WARNING):/.test(first)) return;
    original(...args);
  };
}
const { default: Provider, errors } = await import('oidc-provider');

/** Where the protected API lives; each resource server is one path under it. */
export const API = 'https://api.interop.test';

/** Resource indicators, also the `aud` of the tokens issued for them. */
export const RESOURCES = {
  rs256: `${API}/rs256`,
  es256: `${API}/es256`,
  eddsa: `${API}/eddsa`,
  opaque: `${API}/opaque`,
} as const;

/** The scopes every resource server offers. */
export const API_SCOPES = 'api:read api:write';

/** A client authenticating with `client_secret_basic`. */
export interface SecretClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * The API's introspection client. Its id has an `@` and its secret a `!`, as ZITADEL's
 * do, so the form-urlencoding of Basic credentials is exercised against a second
 * implementation of RFC 6749 §2.3.1.
 */
export const INTROSPECT_BASIC: SecretClient = {
  clientId: '78366401571920522@interop',
  clientSecret: 'veryweaksecret!',
};

/** A service calling the API with the client credentials grant. */
export const M2M: SecretClient = { clientId: 'm2m-reader', clientSecret: 'm2m-reader-secret' };

/** A second service, whose tokens carry the `admin` role. */
export const M2M_ADMIN: SecretClient = {
  clientId: 'm2m-admin',
  clientSecret: 'm2m-admin-secret',
};

/** A confidential web app logging users in with the authorization code flow. */
export const WEB = {
  clientId: 'web-app',
  clientSecret: 'web-app-secret',
  redirectUri: 'https://app.interop.test/callback',
} as const;

/** The one user of the provider. */
export const ADA = {
  login: 'ada',
  password: 'Password1!',
  sub: 'user-ada',
  claims: {
    name: 'Ada Lovelace',
    given_name: 'Ada',
    family_name: 'Lovelace',
    preferred_username: 'ada',
    email: 'ada@interop.test',
    email_verified: true,
  },
} as const;

/** Role claims the provider adds to tokens (`extraTokenClaims`), by client or account. */
export const EXTRA_CLAIMS: Readonly<Record<string, Record<string, unknown>>> = {
  [M2M.clientId]: { roles: ['reader'] },
  [M2M_ADMIN.clientId]: { roles: ['admin'], realm_access: { roles: ['admin', 'offline'] } },
  [ADA.sub]: { roles: ['admin'] },
};

/** The provider's signing keys (private JWKs with `kid`), one per algorithm. */
export interface SigningKeys {
  readonly RS256: JsonWebKey;
  readonly ES256: JsonWebKey;
  readonly EdDSA: JsonWebKey;
}

function privateJwk(key: KeyObject, alg: string): JsonWebKey {
  return {
    ...key.export({ format: 'jwk' }),
    kid: `${alg.toLowerCase()}-${randomUUID()}`,
    alg,
    use: 'sig',
  };
}

/** A fresh key set: RSA 2048, P-256 and Ed25519. */
export function generateSigningKeys(): SigningKeys {
  return {
    RS256: privateJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'RS256'),
    ES256: privateJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256'),
    EdDSA: privateJwk(generateKeyPairSync('ed25519').privateKey, 'EdDSA'),
  };
}

/**
 * The API's `private_key_jwt` introspection client, as a ZITADEL application key file
 * (PKCS#1 PEM): that is the form core takes the credential in. The provider registers
 * the matching public key.
 */
function createApplicationKey(): { keyFile: ApplicationKeyFile; publicJwk: JsonWebKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = `app-key-${randomUUID()}`;
  const keyFile: ApplicationKeyFile = {
    type: 'application',
    keyId,
    key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    appId: 'api-app',
    clientId: 'api-introspector-jwt',
  };
  const publicJwk = {
    ...publicKey.export({ format: 'jwk' }),
    kid: keyId,
    alg: 'RS256',
    use: 'sig',
  };
  return { keyFile, publicJwk };
}

const APPLICATION_KEY = createApplicationKey();

/** The application key file of the `private_key_jwt` introspection client. */
export const INTROSPECT_KEY_FILE: ApplicationKeyFile = APPLICATION_KEY.keyFile;

const RESOURCE_SERVERS: Readonly<Record<string, Record<string, unknown>>> = {
  [RESOURCES.rs256]: { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
  [RESOURCES.es256]: { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } },
  [RESOURCES.eddsa]: { accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } },
  [RESOURCES.opaque]: { accessTokenFormat: 'opaque' },
};

const INTROSPECTORS = new Set([INTROSPECT_BASIC.clientId, INTROSPECT_KEY_FILE.clientId]);

/** The parts of oidc-provider's token and client models the configuration reads. */
interface TokenModel {
  clientId?: string;
  accountId?: string;
}
interface ClientModel {
  clientId: string;
}

/** The part of oidc-provider's request context `requireNonce` reads. */
interface ContextModel {
  oidc?: { client?: ClientModel };
}

const DPOP_NONCE_SECRET = randomBytes(32);

const apiClient = (clientId: string, auth: Record<string, unknown>): Record<string, unknown> => ({
  client_id: clientId,
  grant_types: [],
  response_types: [],
  redirect_uris: [],
  ...auth,
});

const serviceClient = ({ clientId, clientSecret }: SecretClient): Record<string, unknown> => ({
  client_id: clientId,
  client_secret: clientSecret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
});

function configuration(keys: SigningKeys): Record<string, unknown> {
  return {
    jwks: { keys: [keys.RS256, keys.ES256, keys.EdDSA] },
    clients: [
      apiClient(INTROSPECT_BASIC.clientId, {
        client_secret: INTROSPECT_BASIC.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
      }),
      apiClient(INTROSPECT_KEY_FILE.clientId, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [APPLICATION_KEY.publicJwk] },
      }),
      serviceClient(M2M),
      serviceClient(M2M_ADMIN),
      {
        client_id: WEB.clientId,
        client_secret: WEB.clientSecret,
        redirect_uris: [WEB.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    cookies: { keys: ['interop-suite-cookie-key'] },
    findAccount: (_ctx: unknown, sub: string) =>
      sub === ADA.sub
        ? { accountId: sub, claims: async () => ({ sub, ...ADA.claims }) }
        : undefined,
    extraTokenClaims: async (_ctx: unknown, token: TokenModel) =>
      EXTRA_CLAIMS[token.accountId ?? token.clientId ?? ''],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only the API's own clients may read token contents.
        allowedPolicy: async (_ctx: unknown, client: ClientModel) =>
          INTROSPECTORS.has(client.clientId),
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: ClientModel, token: TokenModel) =>
          token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          const server = RESOURCE_SERVERS[resource];
          if (server === undefined) throw new errors.InvalidTarget();
          return { scope: API_SCOPES, audience: resource, ...server };
        },
      },
      userinfo: { enabled: true },
      // DPoP is on by default; the admin service must also use the provider's nonces
      // (RFC 9449 §8), so a client's nonce handling meets a second implementation.
      dPoP: {
        enabled: true,
        nonceSecret: DPOP_NONCE_SECRET,
        requireNonce: (ctx: ContextModel) => ctx.oidc?.client?.clientId === M2M_ADMIN.clientId,
      },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
    },
  };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The login "page" the provider sends users to: `GET /interaction/:uid` tells what is
 * pending, `POST /interaction/:uid/login` checks the password, grants the requested
 * scopes (and resource scopes) and hands the result back to the provider.
 */
async function interaction(
  provider: InstanceType<typeof Provider>,
  req: IncomingMessage,
  res: ServerResponse,
  login: boolean,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (!login) {
    sendJson(res, 200, { uid: details.uid, prompt: details.prompt.name });
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  if (form.get('login') !== ADA.login || form.get('password') !== ADA.password) {
    sendJson(res, 401, { error: 'access_denied' });
    return;
  }
  const grant = new provider.Grant({
    accountId: ADA.sub,
    clientId: String(details.params['client_id']),
  });
  grant.addOIDCScope(String(details.params['scope']));
  const resource = details.params['resource'];
  if (typeof resource === 'string') grant.addResourceScope(resource, API_SCOPES);
  const result = { login: { accountId: ADA.sub }, consent: { grantId: await grant.save() } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

function listener(provider: InstanceType<typeof Provider>): Listener {
  const callback = provider.callback();
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://provider.invalid').pathname;
    const match = /^\/interaction\/[\w-]+(\/login)?$/.exec(path);
    if (match === null) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, match[1] !== undefined).catch(() => {
      if (!res.headersSent) sendJson(res, 400, { error: 'invalid_request' });
      else res.destroy();
    });
  };
}

/** A running provider. */
export interface InteropProvider {
  /** `http://127.0.0.1:PORT`, exactly as the discovery document names it. */
  readonly issuer: string;
  /** The signing keys in use (private JWKs, so a test can sign look-alike tokens). */
  readonly keys: SigningKeys;
  /**
   * A client credentials token for `resource`, straight from the token endpoint. With a
   * `dpop` proof maker (RFC 9449), the request carries a proof for the token endpoint and
   * the token is bound to its key.
   */
  clientCredentials(
    resource: string,
    client?: SecretClient,
    dpop?: (htu: string) => Promise<string>,
  ): Promise<string>;
  /** Revokes `token` at the revocation endpoint (RFC 7009) as the client it was issued to. */
  revoke(token: string, client: SecretClient): Promise<void>;
  /** How many requests reached `path` (e.g. `/.well-known/openid-configuration`). */
  requests(path: string): number;
  /** Replaces the provider with one signing with `keys`, on the same port. */
  restart(keys: SigningKeys): Promise<void>;
  /** Stops the server and drops every connection. */
  close(): Promise<void>;
}

function basic({ clientId, clientSecret }: SecretClient): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/!/g, '%21');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

async function post(
  url: string,
  client: SecretClient,
  form: Record<string, string>,
  extra: Record<string, string> = {},
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...extra,
      authorization: basic(client),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form).toString(),
  });
}

/** Starts oidc-provider on 127.0.0.1 (a free port) with `keys` (fresh ones by default). */
export async function startProvider(
  options: { keys?: SigningKeys } = {},
): Promise<InteropProvider> {
  let handle: Listener = (_req, res) => sendJson(res, 503, { error: 'starting' });
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://provider.invalid').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let keys = options.keys ?? generateSigningKeys();
  handle = listener(new Provider(issuer, configuration(keys)));
  return {
    issuer,
    get keys() {
      return keys;
    },
    async clientCredentials(resource, client = M2M, dpop) {
      const proof = dpop === undefined ? {} : { dpop: await dpop(`${issuer}/token`) };
      const form = { grant_type: 'client_credentials', resource, scope: API_SCOPES };
      const res = await post(`${issuer}/token`, client, form, proof);
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200 || typeof body['access_token'] !== 'string') {
        throw new Error(
          `client credentials grant failed: HTTP ${res.status} ${JSON.stringify(body)}`,
        );
      }
      return body['access_token'];
    },
    requests: (path) => counts.get(path) ?? 0,
    async revoke(token, client) {
      const res = await post(`${issuer}/token/revocation`, client, { token });
      if (res.status !== 200) throw new Error(`revocation failed: HTTP ${res.status}`);
    },
    async restart(next) {
      keys = next;
      // Open keep-alive connections reach the new provider too: `handle` is read per request.
      handle = listener(new Provider(issuer, configuration(next)));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
