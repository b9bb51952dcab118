/**
 * Client authentication at the introspection, token and revocation endpoints.
 * `client_secret_basic` is decoded as ZITADEL does: base64, then split at the first `:`,
 * then form-urldecode id and secret (ids contain `@`, secrets may contain anything), so a
 * client that skips the encoding step fails here as it would against ZITADEL.
 * `private_key_jwt` checks the assertion by the app's registered keys.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AssertionError, verifyAssertion } from './assertion.js';
import type { IdpContext } from './context.js';
import { HttpError, invalidRequest } from './http.js';
import type { ApiClient, Client } from './store.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What a request presented to identify its client. */
export type Credentials =
  | { method: 'basic' | 'post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; assertion: string }
  | { method: 'none'; clientId: string };

export function invalidClient(description = 'client authentication failed'): HttpError {
  return new HttpError(401, 'invalid_client', description);
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Parses `Authorization: Basic …`; throws invalid_client when malformed. */
export function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('malformed Basic credentials');
  try {
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    throw invalidClient('malformed Basic credentials');
  }
}

/** Reads the one client authentication a request carries (RFC 6749 §2.3 allows only one). */
export function readCredentials(
  req: IncomingMessage,
  form: Map<string, string>,
): Credentials | undefined {
  const found: Credentials[] = [];
  const header = req.headers.authorization;
  if (header !== undefined && /^basic /i.test(header.trim()))
    found.push({ method: 'basic', ...parseBasic(header) });
  const assertion = form.get('client_assertion');
  if (assertion !== undefined) {
    // A malformed request, not failed authentication: 400, as zitadel/oidc's
    // parseClientCredentials (pkg/op/server_http.go) answers.
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
      throw invalidRequest('invalid client_assertion_type');
    }
    found.push({ method: 'private_key_jwt', assertion });
  }
  const clientId = form.get('client_id');
  const secret = form.get('client_secret');
  if (clientId !== undefined && secret !== undefined)
    found.push({ method: 'post', clientId, secret });
  if (found.length > 1) throw invalidRequest('use exactly one client authentication method');
  if (found[0] === undefined && clientId !== undefined) return { method: 'none', clientId };
  return found[0];
}

/** Compares secrets in constant time. */
export function secretMatches(expected: string | undefined, given: string): boolean {
  if (expected === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

async function byAssertion(ctx: IdpContext, assertion: string): Promise<ApiClient> {
  const apiClient = (id: string): ApiClient | undefined => {
    const client = ctx.store.clients.get(id);
    return client?.kind === 'api' ? client : undefined;
  };
  try {
    const subject = await verifyAssertion(
      assertion,
      (id, kid) => apiClient(id)?.keys.get(kid),
      ctx.issuer,
    );
    const client = apiClient(subject);
    if (client === undefined) throw invalidClient();
    return client;
  } catch (error) {
    if (error instanceof AssertionError) throw invalidClient(error.message);
    throw error;
  }
}

/**
 * Authenticates an application. Secrets and assertions are checked against API apps; a
 * bare `client_id` passes only for public (web) apps and only when `allowPublic` is set.
 */
export async function authenticateApp(
  ctx: IdpContext,
  credentials: Credentials | undefined,
  allowPublic: boolean,
): Promise<Client> {
  // Naming no client at all is a malformed request (400), as in parseClientCredentials.
  if (credentials === undefined)
    throw invalidRequest('client_id or client_assertion must be provided');
  if (credentials.method === 'private_key_jwt') return byAssertion(ctx, credentials.assertion);
  const client = ctx.store.clients.get(credentials.clientId);
  if (credentials.method === 'none') {
    if (allowPublic && client?.kind === 'web') return client;
    throw invalidClient('client authentication is required');
  }
  if (client?.kind === 'api' && secretMatches(client.app.clientSecret, credentials.secret))
    return client;
  throw invalidClient();
}
