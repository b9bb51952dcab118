/**
 * `POST /oauth/v2/revoke` (RFC 7009): an authenticated client revokes a refresh token
 * issued to it, or an access token issued to it or meant for its project. Revoking a
 * refresh token ends that token only; access tokens already issued stay active until they
 * expire or are revoked themselves (a logout revokes both). Unknown or foreign tokens still answer 200, as the RFC
 * asks, so the endpoint does not tell which tokens exist.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateApp, readCredentials } from '../client-auth.js';
import type { IdpContext } from '../context.js';
import { invalidRequest, readForm, sendJson } from '../http.js';
import { audienceAllows } from './introspect.js';

export async function handleRevoke(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  const form = await readForm(req);
  const client = await authenticateApp(ctx, readCredentials(req, form), true);
  const token = form.get('token');
  if (token === undefined || token === '') throw invalidRequest('token is required');
  if (ctx.refreshTokens.find(token)?.clientId === client.app.clientId) {
    ctx.refreshTokens.delete(token);
    sendJson(res, 200, {});
    return;
  }
  const issued = await ctx.tokens.resolve(token, ctx.keys, ctx.issuer);
  if (issued !== undefined) {
    const own = issued.claims['client_id'] === client.app.clientId;
    if (own || audienceAllows(issued.claims['aud'], client)) ctx.tokens.revoke(token);
  }
  sendJson(res, 200, {});
}
