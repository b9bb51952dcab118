/**
 * IdP access: every call zitauth makes to the identity provider and what guards it.
 * `http.ts` (timeouts, no redirects, bounded bodies) and `node-transport.ts` (keep-alive
 * agents) carry the calls; `idp-url.ts` refuses URLs credentials must not go to;
 * `discovery.ts` and `key-set.ts` read the IdP's metadata and signing keys, and `jwk.ts`
 * picks the key for a token; `client-auth.ts` and `key-file.ts` authenticate the client;
 * `circuit-breaker.ts`, `retry.ts` and `limiter.ts` keep an outage from becoming a flood.
 */
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
export { checkIdpUrl, isLoopbackHost } from './idp-url.js';
