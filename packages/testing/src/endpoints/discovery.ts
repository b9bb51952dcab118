/**
 * `GET /.well-known/openid-configuration`: the endpoints and supported values, in the
 * shape ZITADEL publishes, so clients that discover (oauth4webapi, core) find everything.
 */
import type { ServerResponse } from 'node:http';
import type { IdpContext } from '../context.js';
import { sendJson } from '../http.js';
import { SIGNING_ALGORITHMS } from '../keys.js';

export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/v2/authorize`,
    token_endpoint: `${issuer}/oauth/v2/token`,
    introspection_endpoint: `${issuer}/oauth/v2/introspect`,
    userinfo_endpoint: `${issuer}/oidc/v1/userinfo`,
    revocation_endpoint: `${issuer}/oauth/v2/revoke`,
    end_session_endpoint: `${issuer}/oidc/v1/end_session`,
    jwks_uri: `${issuer}/oauth/v2/keys`,
    scopes_supported: ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    request_object_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    revocation_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    revocation_endpoint_auth_signing_alg_values_supported: ['RS256'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: ['RS256'],
    claims_supported: [
      'sub',
      'aud',
      'exp',
      'iat',
      'iss',
      'auth_time',
      'nonce',
      'acr',
      'amr',
      'c_hash',
      'at_hash',
      'act',
      'scopes',
      'client_id',
      'azp',
      'preferred_username',
      'name',
      'family_name',
      'given_name',
      'email',
      'email_verified',
    ],
    code_challenge_methods_supported: ['S256'],
    ui_locales_supported: ['en'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

export function handleDiscovery(
  _req: unknown,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  sendJson(res, 200, discoveryDocument(ctx.issuer), { 'Cache-Control': 'max-age=300' });
  return Promise.resolve();
}
