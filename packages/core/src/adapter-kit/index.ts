/**
 * The adapter kit: what Express, Koa and Fastify share so they behave the same by
 * construction. `adapter-kit.ts` resolves options and asks the verifier the cheapest
 * way, `node-request.ts` maps a Node request to a `TokenRequest`, `guards.ts` builds
 * route guards from the role and scope decisions of `authorize.ts`, `misuse.ts` answers
 * zitauth used in a way that cannot protect a route, and `resource-metadata.ts` is the
 * RFC 9728 document an API serves.
 */
export {
  hasAllRoles,
  hasAnyRole,
  hasRole,
  hasScope,
  requireCheck,
  requireIssuer,
  requireRoles,
  requireScopes,
  roleOrganizations,
  type AuthCheck,
  type CheckContext,
  type Match,
  type RequireRolesOptions,
} from './authorize.js';
export {
  checkResourceIdentifier,
  createProtectedResource,
  resourceMetadataUrl,
  type BearerMethod,
  type ProtectedResource,
  type ProtectedResourceOptions,
  type ResourceMetadataContext,
  type ResourceMetadataDocument,
  type ResourceMetadataResponse,
  type SignedMetadataOptions,
} from './resource-metadata.js';
export {
  answerRequest,
  authenticateRequest,
  booleanOption,
  isVerifier,
  resolveAuthOptions,
  type AdapterOptions,
  type AuthOptions,
  type ResolvedAuth,
} from './adapter-kit.js';
export { headerValues, nodeTokenRequest } from './node-request.js';
export {
  challengeOptions,
  checkGuard,
  issuerGuard,
  roleGuard,
  scopeGuard,
  type Guard,
  type OrgSource,
  type RequestAccess,
  type RoleGuardOptions,
  type ScopeGuardOptions,
} from './guards.js';
export { guardWithoutAuth } from './misuse.js';
