/**
 * The adapter kit: what Express, Koa and Fastify share so they behave the same by
 * construction. `adapter-kit.ts` resolves options, maps a Node request to a
 * `TokenRequest` and builds route guards; `authorize.ts` holds the role and scope
 * decisions those guards make; `resource-metadata.ts` is the RFC 9728 document an API
 * serves.
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
  challengeOptions,
  checkGuard,
  guardWithoutAuth,
  headerValues,
  isVerifier,
  issuerGuard,
  nodeTokenRequest,
  resolveAuthOptions,
  roleGuard,
  scopeGuard,
  type AdapterOptions,
  type AuthOptions,
  type Guard,
  type OrgSource,
  type RequestAccess,
  type ResolvedAuth,
  type RoleGuardOptions,
  type ScopeGuardOptions,
} from './adapter-kit.js';
