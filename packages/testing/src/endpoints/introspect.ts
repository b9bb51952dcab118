/**
 * `POST /oauth/v2/introspect` (RFC 7662) as ZITADEL answers it (zitadel/oidc
 * pkg/op/server_http.go introspectionHandler, then ZITADEL's internal/api/oidc/introspect.go):
 * a request naming no client is 400 `invalid_request`, a client id without a secret or
 * assertion 401 `invalid_client`, a missing `token` 400 `invalid_request` (checked before
 * the credentials are), failed client authentication 401 `invalid_client`; every other
 * problem is `200 {"active": false}`, including tokens whose audience has neither the
 * caller's client id nor its project id, so one API cannot read another's tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateApp, invalidClient, readCredentials } from '../client-auth.js';
import type { IdpContext } from '../context.js';
import { invalidRequest, readForm, sendJson } from '../http.js';
import type { Client } from '../store.js';

/** Whether a token's `aud` names the client or its project. */
export function audienceAllows(aud: unknown, client: Client): boolean {
  const list = Array.isArray(aud) ? aud : [aud];
  return list.includes(client.app.clientId) || list.includes(client.app.projectId);
}

export async function handleIntrospect(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  const form = await readForm(req);
  const credentials = readCredentials(req, form);
  if (credentials?.method === 'none') throw invalidClient('client must be authenticated');
  const token = form.get('token') ?? '';
  if (token === '') throw invalidRequest('token missing');
  const client = await authenticateApp(ctx, credentials, false);
  const issued = await ctx.tokens.resolve(token, ctx.keys, ctx.issuer);
  if (issued === undefined || !audienceAllows(issued.claims['aud'], client)) {
    sendJson(res, 200, { active: false });
    return;
  }
  sendJson(res, 200, { active: true, token_type: 'Bearer', ...issued.extra, ...issued.claims });
}
