/**
 * The machine-to-machine grants: the JWT bearer grant (RFC 7523) with a service-user key,
 * checked by the same assertion rules as `private_key_jwt`, and client credentials with a
 * service user's name and secret. Both yield a `TokenSpec` in ZITADEL's shape: `aud`
 * holds the projects named by audience scopes, roles only when the roles scope (or the
 * project's role assertion) asks for them.
 */
import type { IncomingMessage } from 'node:http';
import { AssertionError, verifyAssertion } from './assertion.js';
import { invalidClient, readCredentials, secretMatches } from './client-auth.js';
import type { IdpContext } from './context.js';
import { HttpError, invalidRequest } from './http.js';
import type { TokenSpec } from './mint.js';
import { assertsRoles, readScope, type ScopeRequest } from './scopes.js';
import type { ServiceUser } from './types.js';

/** A grant's result: the token to issue and what the scope asked for. */
export interface GrantResult {
  readonly spec: TokenSpec;
  readonly request: ScopeRequest;
}

function serviceUserSpec(
  ctx: IdpContext,
  user: ServiceUser,
  scope: string | undefined,
): GrantResult {
  const request = readScope(ctx, scope);
  const forOwnProject =
    request.projectIds.length === 0 || request.projectIds.includes(user.projectId);
  const withRoles = forOwnProject && assertsRoles(ctx, request, user.projectId);
  const iat = Math.floor(Date.now() / 1000);
  const spec: TokenSpec = {
    format: user.accessTokenType,
    subject: user.userId,
    projectId: user.projectId,
    orgId: user.orgId,
    roles: withRoles ? user.roles : undefined,
    audience: request.projectIds.length > 0 ? [...request.projectIds] : [user.userId],
    clientId: user.clientId,
    scope: request.scope,
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
  return serviceUserSpec(ctx, record.user, form.get('scope'));
}

/** `client_credentials`: a service user's name and secret (Basic or form fields). */
export function clientCredentialsGrant(
  ctx: IdpContext,
  req: IncomingMessage,
  form: Map<string, string>,
): GrantResult {
  const credentials = readCredentials(req, form);
  if (credentials?.method !== 'basic' && credentials?.method !== 'post') {
    throw invalidClient('client_credentials needs a client id and secret');
  }
  const record = ctx.store.serviceUserByClientId(credentials.clientId);
  if (record === undefined || !secretMatches(record.user.clientSecret, credentials.secret))
    throw invalidClient();
  return serviceUserSpec(ctx, record.user, form.get('scope'));
}
