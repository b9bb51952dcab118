/**
 * Verification: how a request's token becomes an `AuthContext` or a refusal. The
 * pipeline (`verifier.ts`) extracts the one bearer token (`extract.ts`), looks it up in
 * the cache (`cache.ts`, `cache-policy.ts`, `refusal-cache.ts`), routes it (`check.ts`)
 * to a local JWT check (`local-verifier.ts`, `jwt-shape.ts`, `jws-signature.ts`) or to
 * the IdP (`introspection.ts`), applies the same claim rules to both (`claim-checks.ts`),
 * checks a DPoP binding (`dpop.ts`, `dpop-nonce.ts`, options in `dpop-options.ts`) and
 * normalizes the claims (`claims.ts`). Options are checked once (`options.ts`), the
 * start-up check is `readiness.ts`, several issuers are `multi-issuer.ts`, and
 * `answer.ts` hands adapters refusals as values.
 */
export { createVerifier, isCompactJws } from './verifier.js';
export {
  createMultiIssuerVerifier,
  type IssuerOptions,
  type MultiIssuerOptions,
  type MultiIssuerVerifier,
  type OpaqueIssuerResolver,
} from './multi-issuer.js';
export type { DpopMode } from './dpop-options.js';
export type { NonceOptions as DpopNonceOptions } from './dpop-nonce.js';
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
