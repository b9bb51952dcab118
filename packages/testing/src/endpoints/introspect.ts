/**
 * `POST /oauth/v2/introspect` (RFC 7662) as ZITADEL answers it: only client
 * authentication fails loudly (401 invalid_client); every other problem is
 * `200 {"active": false}`, including tokens whose audience has neither the caller's
 * client id nor its project id, so one API cannot read another's tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateApp, readCredentials } from '../client-auth.js';
import type { IdpContext } from '../context.js';
import { readForm, sendJson } from '../http.js';
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
  const client = await authenticateApp(ctx, readCredentials(req, form), false);
  const token = form.get('token') ?? '';
  const issued = token === '' ? undefined : await ctx.tokens.resolve(token, ctx.keys, ctx.issuer);
  if (issued === undefined || !audienceAllows(issued.claims['aud'], client)) {
    sendJson(res, 200, { active: false });
    return;
  }
  sendJson(res, 200, { active: true, token_type: 'Bearer', ...issued.claims, ...issued.extra });
}
