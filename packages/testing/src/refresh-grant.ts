/**
 * The `refresh_token` grant (RFC 6749 §6) as ZITADEL answers it: the client authenticates
 * as at the code exchange (a bare `client_id` for a public user-agent app), the token must
 * have been issued to that client, a `scope` parameter may narrow the original scope but
 * never widen it (400 `invalid_scope`), and the used token is spent: the answer carries a
 * new refresh token (rotation), plus an ID token when the login asked for `openid`.
 * A token presented by another client is refused without being spent, so a stolen token
 * cannot be burned by a stranger.
 */
import type { IncomingMessage } from 'node:http';
import { authenticateApp, readCredentials } from './client-auth.js';
import { userTokenSpec } from './code-grant.js';
import type { IdpContext } from './context.js';
import type { GrantResult } from './grants.js';
import { HttpError, invalidRequest } from './http.js';
import type { RefreshGrant } from './refresh-tokens.js';
import { readScope } from './scopes.js';

export const OFFLINE_ACCESS = 'offline_access';

const invalidGrant = (description: string): HttpError =>
  new HttpError(400, 'invalid_grant', description);

/** The scope of the new access token: the original one, or a subset of it. */
function narrowedScope(original: string, requested: string | undefined): string {
  if (requested === undefined || requested.trim() === '') return original;
  const granted = new Set(original.split(' '));
  const wanted = requested.split(' ').filter((s) => s !== '');
  if (wanted.some((s) => !granted.has(s)))
    throw new HttpError(400, 'invalid_scope', 'scope exceeds the scope originally granted');
  return wanted.join(' ');
}

/** Redeems a refresh token; the caller issues the next one from `refresh`. */
export async function refreshTokenGrant(
  ctx: IdpContext,
  req: IncomingMessage,
  form: Map<string, string>,
): Promise<GrantResult & { refresh: RefreshGrant }> {
  const client = await authenticateApp(ctx, readCredentials(req, form), true);
  const token = form.get('refresh_token');
  if (token === undefined || token === '') throw invalidRequest('refresh_token is required');
  const refresh = ctx.refreshTokens.find(token);
  if (refresh === undefined) throw invalidGrant('refresh token is invalid or expired');
  if (refresh.clientId !== client.app.clientId)
    throw invalidGrant('refresh token was issued to another client');
  const scope = narrowedScope(refresh.scope, form.get('scope'));
  ctx.refreshTokens.delete(token);
  const user = ctx.store.users.get(refresh.userId);
  if (user === undefined) throw invalidGrant('user no longer exists');
  const request = readScope(ctx, scope);
  return { spec: userTokenSpec(ctx, client, user, request), request, refresh };
}
