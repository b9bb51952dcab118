/**
 * @zitauth/fastify: protect Fastify 5 routes with ZITADEL access tokens.
 * `await app.register(zitauth, options)` adds `request.auth`, `app.authenticate` (for
 * `onRequest`) and `app.requireRoles` / `requireScopes` / `requireCheck` (for
 * `preHandler`); the `protect` plugin guards every route of a scope.
 */
import { zitauth } from './plugin.js';

export { protect, zitauth, type ZitauthOptions } from './plugin.js';
export { errorHandler } from './error-handler.js';
export { authenticate, authenticateOptional } from './hooks.js';
export type { OrgSource, RequireRolesOptions, RequireScopesOptions, ZitauthHook } from './hooks.js';
export type { AdapterOptions, AuthOptions } from './options.js';
export {
  createMultiIssuerVerifier,
  createVerifier,
  hasAllRoles,
  hasAnyRole,
  hasRole,
  hasScope,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isZitauthError,
  MisuseError,
  UnauthorizedError,
  UpstreamError,
  ZitauthConfigError,
  ZitauthError,
  type AuthContext,
  type IssuerOptions,
  type MultiIssuerOptions,
  type MultiIssuerVerifier,
  type ProtectedResourceOptions,
  type Verifier,
  type VerifierOptions,
} from '@zitauth/core';
export default zitauth;
