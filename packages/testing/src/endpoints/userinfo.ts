/**
 * `GET|POST /oidc/v1/userinfo`: the caller's profile by the scopes of its access token,
 * plus the token's ZITADEL claims (resourceowner, roles). A missing or bad token answers
 * 401 with an RFC 6750 challenge, as a resource server would.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { profileClaims } from '../claims.js';
import type { IdpContext } from '../context.js';
import { HttpError, sendJson } from '../http.js';

function bearer(req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (header === undefined)
    throw new HttpError(401, 'invalid_token', 'no access token', { 'WWW-Authenticate': 'Bearer' });
  const match = /^Bearer +(\S+)$/i.exec(header.trim());
  if (match?.[1] === undefined) throw invalidToken();
  return match[1];
}

function invalidToken(): HttpError {
  return new HttpError(401, 'invalid_token', 'the access token is invalid', {
    'WWW-Authenticate': 'Bearer error="invalid_token"',
  });
}

export async function handleUserinfo(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  const issued = await ctx.tokens.resolve(bearer(req), ctx.keys, ctx.issuer);
  if (issued === undefined) throw invalidToken();
  const sub = String(issued.claims['sub']);
  const granted = issued.claims['scope'] ?? issued.extra['scope'];
  const scope = typeof granted === 'string' ? granted : '';
  const zitadel = Object.entries(issued.claims).filter(([name]) =>
    name.startsWith('urn:zitadel:iam:'),
  );
  sendJson(res, 200, {
    sub,
    ...profileClaims(ctx.store.profileOf(sub), scope),
    ...Object.fromEntries(zitadel),
  });
}
