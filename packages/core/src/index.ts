/**
 * @zitauth/core: framework-free validation of ZITADEL (and OpenID Connect) access tokens.
 * Build a verifier once with `createVerifier`, then `verify(token)` or
 * `authenticate(request)`; adapters for Express, Koa and Fastify wrap exactly this.
 */
export { createVerifier, isCompactJws } from './verifier.js';
export {
  createMultiIssuerVerifier,
  type IssuerOptions,
  type MultiIssuerOptions,
  type MultiIssuerVerifier,
  type OpaqueIssuerResolver,
} from './multi-issuer.js';
export * from './errors.js';
export * from './types.js';
export type { DpopMode } from './dpop.js';
export type { NonceOptions as DpopNonceOptions } from './dpop-nonce.js';
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
  RESOURCE_OWNER_ID_CLAIM,
  ZITADEL_ROLES_CLAIM,
  parseRolesClaim,
  projectRolesClaim,
} from './claims.js';
export { extractToken } from './extract.js';
export { ASYMMETRIC_ALGORITHMS } from './options.js';
export {
  createMemoryStore,
  tokenCacheKey,
  type CacheFill,
  type CacheStore,
  type MemoryStoreOptions,
} from './cache.js';
export {
  idpFetch,
  parseJsonObject,
  type FetchLike,
  type HttpOptions,
  type IdpResponse,
} from './http.js';
export { createDiscovery, type Discovery, type DiscoveryDocument } from './discovery.js';
export {
  loadKeyFile,
  type ApplicationKeyFile,
  type KeyFile,
  type KeyFileInput,
  type LoadedKey,
  type ServiceAccountKeyFile,
} from './key-file.js';
export {
  createTokenClient,
  fetchUserinfo,
  TokenRequestError,
  TokenUnavailableError,
  type RetryOptions,
  type TokenClient,
  type TokenClientOptions,
  type TokenRequestErrorDetails,
  type TokenResponse,
  type UserinfoOptions,
} from './token-client.js';
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
export { checkIdpUrl, isLoopbackHost } from './idp-url.js';
export { checkOptionKeys, closestKey, optionKeys } from './option-keys.js';
export * from './observability/index.js';
