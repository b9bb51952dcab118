/**
 * @zitauth/express: protect Express 4 and 5 routes with ZITADEL access tokens.
 * `auth()` verifies the bearer token and sets `req.auth`; `requireRoles`,
 * `requireScopes` and `requireCheck` guard routes; `errorHandler()` renders errors as JSON.
 */
export { auth, getAuth, type AuthMiddleware } from './middleware.js';
export {
  requireCheck,
  requireIssuer,
  requireRoles,
  requireScopes,
  type OrgSource,
  type RequireRolesOptions,
  type RequireScopesOptions,
} from './guards.js';
export { resourceMetadata } from './resource-metadata.js';
export { errorHandler, type ErrorHandlerOptions } from './error-handler.js';
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
  type AdapterOptions,
  type AuthContext,
  type AuthOptions,
  type IssuerOptions,
  type MultiIssuerOptions,
  type MultiIssuerVerifier,
  type ProtectedResourceOptions,
  type Verifier,
  type VerifierOptions,
} from '@zitauth/core';
