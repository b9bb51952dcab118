/**
 * An MCP-style client that knows nothing but the server's URL and its own client
 * credentials, and finds everything else the way RFC 9728 and OpenID discovery say:
 *
 *   1. call the server without a token; the 401 challenge names `resource_metadata`;
 *   2. read the protected resource metadata; its `resource` must be the server called;
 *   3. take `authorization_servers[0]` and read its `/.well-known/openid-configuration`,
 *      whose `issuer` must be exactly that server;
 *   4. get a token at its `token_endpoint` (client credentials), asking for the
 *      `scopes_supported` the metadata lists;
 *   5. call the server again with the token.
 *
 * Plain `fetch` throughout, so every step reads as the protocol it is.
 */

/** What the client is given. */
export interface ClientOptions {
  /** The MCP endpoint, e.g. `https://api.example.com/mcp`. */
  serverUrl: string;
  /** The client credentials registered at the authorization server. */
  clientId: string;
  clientSecret: string;
  /** Where each step is reported. @default nothing */
  log?: (line: string) => void;
}

/** What the client found out on its way, and the server's final answer. */
export interface ClientRun {
  challenge: string;
  metadataUrl: string;
  metadata: ProtectedResourceMetadata;
  issuer: string;
  tokenEndpoint: string;
  status: number;
  tools: unknown;
  whoami: unknown;
}

/** The parts of RFC 9728 metadata the client reads. */
interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  scopes_supported?: string[];
}

/** A failed step, saying which. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/**
 * A parameter of a `Bearer` challenge (RFC 6750 §3 auth-params; quoted values hold no
 * quotes or backslashes there).
 */
export function challengeParam(header: string, name: string): string | undefined {
  const match = new RegExp(`(?:^Bearer |, )${name}="([^"]*)"`).exec(header);
  return match?.[1];
}

async function json<T>(response: Response, what: string): Promise<T> {
  if (!response.ok) throw new DiscoveryError(`${what}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

let nextId = 1;

/** One JSON-RPC call to the server. */
async function rpc(serverUrl: string, method: string, params: object, token?: string) {
  return fetch(serverUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  });
}

/** Steps 1–2: the challenge of an unauthenticated call, and the metadata it names. */
async function readMetadata(serverUrl: string, log: (line: string) => void) {
  const refused = await rpc(serverUrl, 'tools/list', {});
  const challenge = refused.headers.get('www-authenticate') ?? '';
  log(`POST ${serverUrl} without a token -> ${refused.status} ${challenge}`);
  const metadataUrl = challengeParam(challenge, 'resource_metadata');
  if (refused.status !== 401 || metadataUrl === undefined) {
    throw new DiscoveryError('the server did not answer 401 with resource_metadata');
  }
  const metadata = await json<ProtectedResourceMetadata>(await fetch(metadataUrl), metadataUrl);
  // RFC 9728 §7.3: the metadata must be about the resource the client is calling.
  if (!serverUrl.startsWith(metadata.resource)) {
    throw new DiscoveryError(`metadata is about ${metadata.resource}, not ${serverUrl}`);
  }
  log(`GET ${metadataUrl} -> authorization server ${metadata.authorization_servers?.[0]}`);
  return { challenge, metadataUrl, metadata };
}

/** Step 3: the authorization server's token endpoint, from its discovery document. */
async function discover(issuer: string, log: (line: string) => void) {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const document = await json<{ issuer?: string; token_endpoint?: string }>(await fetch(url), url);
  if (document.issuer !== issuer || typeof document.token_endpoint !== 'string') {
    throw new DiscoveryError(`${url} is not the discovery document of ${issuer}`);
  }
  log(`GET ${url} -> token endpoint ${document.token_endpoint}`);
  return document.token_endpoint;
}

/** Step 4: a token by client credentials (RFC 6749 §4.4), for the scopes the API lists. */
async function getToken(
  tokenEndpoint: string,
  options: ClientOptions,
  scopes: readonly string[],
): Promise<string> {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }),
  });
  const { access_token } = await json<{ access_token?: string }>(response, 'token request');
  if (typeof access_token !== 'string') throw new DiscoveryError('no access_token in the answer');
  return access_token;
}

async function result(response: Response, what: string): Promise<unknown> {
  const body = await json<{ result?: unknown; error?: unknown }>(response, what);
  if (body.error !== undefined) throw new DiscoveryError(`${what}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** Runs the whole discovery and calls `tools/list` and `tools/call whoami` with the token. */
export async function runClient(options: ClientOptions): Promise<ClientRun> {
  const log = options.log ?? (() => undefined);
  const { challenge, metadataUrl, metadata } = await readMetadata(options.serverUrl, log);
  const issuer = metadata.authorization_servers?.[0];
  if (issuer === undefined) throw new DiscoveryError('the metadata names no authorization server');
  const tokenEndpoint = await discover(issuer, log);
  const token = await getToken(tokenEndpoint, options, metadata.scopes_supported ?? []);
  log(`POST ${tokenEndpoint} (client_credentials) -> a token of ${token.length} characters`);
  const listed = await rpc(options.serverUrl, 'tools/list', {}, token);
  log(`POST ${options.serverUrl} tools/list with the token -> ${listed.status}`);
  const tools = await result(listed, 'tools/list');
  const called = await rpc(
    options.serverUrl,
    'tools/call',
    { name: 'whoami', arguments: {} },
    token,
  );
  const whoami = await result(called, 'tools/call');
  log(`POST ${options.serverUrl} tools/call whoami -> ${JSON.stringify(whoami)}`);
  return {
    challenge,
    metadataUrl,
    metadata,
    issuer,
    tokenEndpoint,
    status: listed.status,
    tools,
    whoami,
  };
}
