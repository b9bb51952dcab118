/**
 * @zitauth/core: framework-free validation of ZITADEL (and OpenID Connect) access tokens.
 * Build a verifier once with `createVerifier`, then `verify(token)` or
 * `authenticate(request)`; adapters for Express, Koa and Fastify wrap exactly this.
 *
 * The code is grouped by role, each folder with an index that says what is in it:
 * `verification/` (token to `AuthContext`), `idp/` (calls to the IdP), `token-client/`
 * (machine-to-machine tokens and userinfo), `adapter-kit/` (what the framework adapters
 * share) and `observability/` (diagnostics channels and operator faults). Errors, the
 * public types and option-key checks sit here, used by all of them.
 */
export * from './verification/index.js';
export * from './idp/index.js';
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
} from './token-client/index.js';
export * from './adapter-kit/index.js';
export * from './errors.js';
export * from './types.js';
export { checkOptionKeys, closestKey, optionKeys } from './option-keys.js';
export * from './observability/index.js';
