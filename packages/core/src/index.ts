/**
 * @zitauth/core: framework-free validation of ZITADEL (and OpenID Connect) access tokens.
 * Build a verifier once with `createVerifier`, then `verify(token)` or
 * `authenticate(request)`; adapters for Express, Koa and Fastify wrap exactly this.
 */
export * from './errors.js';
export * from './types.js';
export { createMemoryStore, tokenCacheKey, type CacheStore, type MemoryStoreOptions } from './cache.js';
export { type FetchLike } from './http.js';
export { createDiscovery, type Discovery, type DiscoveryDocument } from './discovery.js';
export {
  loadKeyFile,
  type ApplicationKeyFile,
  type KeyFile,
  type KeyFileInput,
  type LoadedKey,
  type ServiceAccountKeyFile,
} from './key-file.js';
