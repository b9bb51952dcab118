/**
 * `GET|POST /oidc/v1/end_session` (RP-initiated logout): redirects to
 * `post_logout_redirect_uri` only when it is registered for the client named by
 * `client_id` or by the `id_token_hint` (which must carry our signature; expiry is
 * ignored, as logout often happens with an expired ID token).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdpContext } from '../context.js';
import { HttpError, readParams, redirect, sendHtml } from '../http.js';
import { verifyOwnJwt } from '../jwt.js';
import { signedOutPage } from '../login.js';
import { withParams } from './authorize.js';

async function hintedClientId(
  ctx: IdpContext,
  hint: string | undefined,
): Promise<string | undefined> {
  if (hint === undefined || hint === '') return undefined;
  const claims = await verifyOwnJwt(ctx.keys, hint);
  if (claims === undefined || claims['iss'] !== ctx.issuer)
    throw new HttpError(400, 'invalid_request', 'id_token_hint is invalid');
  return typeof claims['azp'] === 'string' ? claims['azp'] : undefined;
}

export async function handleEndSession(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
  url: URL,
): Promise<void> {
  const params = await readParams(req, url);
  const clientId =
    params.get('client_id') ?? (await hintedClientId(ctx, params.get('id_token_hint')));
  const target = params.get('post_logout_redirect_uri');
  if (target === undefined || target === '') {
    sendHtml(res, 200, signedOutPage());
    return;
  }
  const client = clientId === undefined ? undefined : ctx.store.clients.get(clientId);
  if (client?.kind !== 'web' || !client.app.postLogoutRedirectUris.includes(target)) {
    throw new HttpError(
      400,
      'invalid_request',
      'post_logout_redirect_uri is not registered for this client',
    );
  }
  redirect(res, withParams(target, { state: params.get('state') }));
}
