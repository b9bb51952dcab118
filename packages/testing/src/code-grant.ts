/**
 * The authorization code grant with PKCE (RFC 7636, S256 only): the code is single-use,
 * bound to its client and redirect URI, and redeemable only with the verifier whose hash
 * the authorize request carried. A replayed code revokes what its first use issued,
 * refresh tokens included.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { authenticateApp, readCredentials } from './client-auth.js';
import type { IdpContext } from './context.js';
import { HttpError, invalidRequest } from './http.js';
import type { CodeGrant } from './login-store.js';
import type { TokenSpec } from './mint.js';
import { assertsRoles, readScope, requestedRoles, type ScopeRequest } from './scopes.js';
import type { Client } from './store.js';
import type { User } from './types.js';
import type { GrantResult } from './grants.js';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const invalidGrant = (description: string): HttpError =>
  new HttpError(400, 'invalid_grant', description);

/** Whether `verifier` hashes (SHA-256, base64url) to `challenge`. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url') === challenge;
}

function takeCode(ctx: IdpContext, code: string | undefined): CodeGrant {
  if (code === undefined || code === '') throw invalidRequest('code is required');
  const { grant, spent } = ctx.logins.redeem(code);
  if (spent !== undefined) {
    for (const token of spent.issuedTokens) ctx.tokens.revoke(token);
    ctx.refreshTokens.deleteChain(spent.sid);
    throw invalidGrant('code was already used');
  }
  if (grant === undefined) throw invalidGrant('code is unknown or expired');
  return grant;
}

/** Redeems a code; the caller records issued tokens in `grant.issuedTokens`. */
export async function authorizationCodeGrant(
  ctx: IdpContext,
  req: IncomingMessage,
  form: Map<string, string>,
): Promise<GrantResult & { grant: CodeGrant }> {
  const client = await authenticateApp(ctx, readCredentials(req, form), true);
  const grant = takeCode(ctx, form.get('code'));
  if (client.app.clientId !== grant.clientId)
    throw invalidGrant('code was issued to another client');
  if (form.get('redirect_uri') !== grant.redirectUri)
    throw invalidGrant('redirect_uri does not match');
  const verifier = form.get('code_verifier') ?? '';
  if (!VERIFIER.test(verifier) || !pkceMatches(verifier, grant.codeChallenge)) {
    throw invalidGrant('code_verifier does not match the code challenge');
  }
  const user = ctx.store.users.get(grant.userId);
  if (user === undefined) throw invalidGrant('user no longer exists');
  const request = readScope(ctx, grant.scope);
  return { spec: userTokenSpec(ctx, client, user, request), request, grant };
}

/** The access token a user's login yields for `client`: from the code or a refresh token. */
export function userTokenSpec(
  ctx: IdpContext,
  client: Client,
  user: User,
  request: ScopeRequest,
): TokenSpec {
  const projectId = client.app.projectId;
  const withRoles = user.projectId === projectId && assertsRoles(ctx, request, projectId);
  const iat = Math.floor(Date.now() / 1000);
  return {
    format: client.kind === 'web' ? client.app.accessTokenType : 'jwt',
    subject: user.id,
    projectId,
    orgId: user.orgId,
    roles: withRoles ? requestedRoles(user.roles, request) : undefined,
    audience: [...new Set([projectId, client.app.clientId, ...request.projectIds])],
    clientId: client.app.clientId,
    scope: request.scope,
    genericRolesClaim: true,
    iat,
    nbf: iat,
    exp: iat + ctx.settings.accessTokenLifetimeSeconds,
  };
}
