/**
 * The machine-to-machine grants: the JWT bearer grant (RFC 7523) with a service-user key,
 * checked by the same assertion rules as `private_key_jwt`, and client credentials with a
 * service user's name and secret. Both yield a `TokenSpec` in ZITADEL's shape, as its
 * internal/api/oidc/token_jwt_profile.go and token_client_credentials.go build it:
 * `client_id` is the assertion's subject (the user id) for the JWT bearer grant and the
 * user name for client credentials (client_credentials.go, clientCredentialsClient.GetID);
 * `aud` holds the projects named by audience scopes, or the client id when none is named
 * (zitadel/oidc NewAccessTokenClaims); roles come only when a roles scope asks for them
 * for a project in `aud`, never from the project's role assertion, and only under the
 * project-specific claim (no client project: userinfo.go, prepareRoles). An empty scope
 * is 400 `invalid_request`; `openid` is not required (zitadel/oidc ValidateAuthReqScopes
 * since zitadel/oidc#613) and only decides whether an ID token comes too.
 */
import type { IncomingMessage } from 'node:http';
import { AssertionError, verifyAssertion } from './assertion.js';
import { invalidClient, readCredentials, secretMatches } from './client-auth.js';
import type { IdpContext } from './context.js';
import { HttpError, invalidRequest } from './http.js';
import type { TokenSpec } from './mint.js';
import { readScope, requestedRoles, type ScopeRequest } from './scopes.js';
import type { ServiceUser } from './types.js';

/** A grant's result: the token to issue and what the scope asked for. */
export interface GrantResult {
  readonly spec: TokenSpec;
  readonly request: ScopeRequest;
}

function serviceUserSpec(
  ctx: IdpContext,
  user: ServiceUser,
  clientId: string,
  scope: string | undefined,
): GrantResult {
  const request = readScope(ctx, scope);
  if (request.scope === '') throw invalidRequest('scope missing');
  const withRoles = request.wantsRoles && request.projectIds.includes(user.projectId);
  const iat = Math.floor(Date.now() / 1000);
  const spec: TokenSpec = {
    format: user.accessTokenType,
    subject: user.userId,
    projectId: user.projectId,
    orgId: user.orgId,
    roles: withRoles ? requestedRoles(user.roles, request) : undefined,
    audience: request.projectIds.length > 0 ? [...request.projectIds] : [clientId],
    clientId,
    scope: request.scope,
    genericRolesClaim: false,
    iat,
    nbf: iat,
    exp: iat + ctx.settings.accessTokenLifetimeSeconds,
  };
  return { spec, request };
}

/** `urn:ietf:params:oauth:grant-type:jwt-bearer`: an assertion signed with a service-user key. */
export async function jwtBearerGrant(
  ctx: IdpContext,
  form: Map<string, string>,
): Promise<GrantResult> {
  const assertion = form.get('assertion');
  if (assertion === undefined || assertion === '') throw invalidRequest('assertion is required');
  let userId: string;
  try {
    const lookup = (id: string, kid: string) => ctx.store.serviceUsers.get(id)?.keys.get(kid);
    userId = await verifyAssertion(assertion, lookup, ctx.issuer);
  } catch (error) {
    if (error instanceof AssertionError) throw new HttpError(400, 'invalid_grant', error.message);
    throw error;
  }
  const record = ctx.store.serviceUsers.get(userId);
  if (record === undefined) throw new HttpError(400, 'invalid_grant', 'unknown service user');
  return serviceUserSpec(ctx, record.user, record.user.userId, form.get('scope'));
}

/** `client_credentials`: a service user's name and secret (Basic or form fields). */
export function clientCredentialsGrant(
  ctx: IdpContext,
  req: IncomingMessage,
  form: Map<string, string>,
): GrantResult {
  const credentials = readCredentials(req, form);
  if (credentials === undefined)
    throw invalidRequest('client_id or client_assertion must be provided');
  if (credentials.method !== 'basic' && credentials.method !== 'post') {
    throw invalidClient('client_credentials needs a client id and secret');
  }
  const record = ctx.store.serviceUserByClientId(credentials.clientId);
  if (record === undefined || !secretMatches(record.user.clientSecret, credentials.secret))
    throw invalidClient();
  return serviceUserSpec(ctx, record.user, record.user.clientId, form.get('scope'));
}
