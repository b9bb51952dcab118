/**
 * `POST /oauth/v2/token`: dispatches on `grant_type`, issues the access token (JWT or
 * opaque, per service user or app), with `openid` an ID token, and a rotated refresh
 * token for logins that asked for `offline_access`; errors follow
 * RFC 6749 §5.2 (400, or 401 for client authentication). The answer has no `scope`, as
 * ZITADEL's (zitadel/oidc pkg/oidc/token.go, AccessTokenResponse has no such field).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizationCodeGrant } from '../code-grant.js';
import type { IdpContext } from '../context.js';
import { clientCredentialsGrant, jwtBearerGrant, type GrantResult } from '../grants.js';
import { HttpError, invalidRequest, readForm, sendJson } from '../http.js';
import type { CodeGrant } from '../login-store.js';
import { issueAccessToken, issueIdToken, type IdTokenExtras } from '../mint.js';
import { OFFLINE_ACCESS, refreshTokenGrant } from '../refresh-grant.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

async function respond(
  res: ServerResponse,
  ctx: IdpContext,
  result: GrantResult,
  extras: IdTokenExtras = {},
  refreshToken?: string,
): Promise<string[]> {
  const { spec, request } = result;
  const accessToken = await issueAccessToken(ctx, spec);
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: spec.exp - Math.floor(Date.now() / 1000),
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
  };
  if (request.openid) {
    const audience = [...new Set([spec.clientId, ...spec.audience])];
    body['id_token'] = await issueIdToken(ctx, { ...spec, audience }, { ...extras, accessToken });
  }
  sendJson(res, 200, body, { Pragma: 'no-cache' });
  return [accessToken];
}

/** A refresh token for a login that asked for `offline_access`, and only then (as ZITADEL). */
function offlineRefreshToken(ctx: IdpContext, grant: CodeGrant): string | undefined {
  if (!grant.scope.split(' ').includes(OFFLINE_ACCESS)) return undefined;
  return ctx.refreshTokens.issue({
    clientId: grant.clientId,
    userId: grant.userId,
    scope: grant.scope,
    authTime: grant.authTime,
    sid: grant.sid,
    chainStartedAt: grant.authTime * 1000,
  });
}

export async function handleToken(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  const form = await readForm(req);
  const grantType = form.get('grant_type');
  if (grantType === undefined) throw invalidRequest('grant_type is required');
  if (grantType === JWT_BEARER) {
    await respond(res, ctx, await jwtBearerGrant(ctx, form));
  } else if (grantType === 'client_credentials') {
    await respond(res, ctx, clientCredentialsGrant(ctx, req, form));
  } else if (grantType === 'authorization_code') {
    const result = await authorizationCodeGrant(ctx, req, form);
    const { grant } = result;
    const extras = { nonce: grant.nonce, authTime: grant.authTime, sid: grant.sid };
    const refreshToken = offlineRefreshToken(ctx, grant);
    grant.issuedTokens.push(...(await respond(res, ctx, result, extras, refreshToken)));
  } else if (grantType === 'refresh_token') {
    const result = await refreshTokenGrant(ctx, req, form);
    const { refresh } = result;
    const extras = { authTime: refresh.authTime, sid: refresh.sid };
    await respond(res, ctx, result, extras, ctx.refreshTokens.issue(refresh));
  } else {
    throw new HttpError(
      400,
      'unsupported_grant_type',
      `grant_type ${grantType.slice(0, 60)} is not supported`,
    );
  }
}
