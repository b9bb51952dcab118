/**
 * @zitauth/gateway: the ZitAuth gateway on Fastify. Browser login with PKCE, M2M tokens
 * for services, `/validate` (also forward-auth for nginx or Traefik) and `/userinfo`,
 * under `/api/v1` as in the seed. `createGateway(options)` builds it; the
 * `zitauth-gateway` command runs it from environment variables.
 */
export { createGateway } from './gateway.js';
export {
  GatewayConfigError,
  type GatewayOptions,
  type LoginOptions,
  type M2mOptions,
  type RateLimitOptions,
} from './options.js';
export type { SessionOptions } from './browser-options.js';
export type { SameSite } from './session-cookie.js';
export { hashSecret, parseM2mClients, type M2mClient } from './m2m-clients.js';
export { readEnvConfig, EnvConfigError, type EnvConfig } from './env.js';
export { startDevIdp, type DevIdp } from './dev-idp.js';
export type { LogOptions } from './logging.js';
export {
  createMemoryStore,
  createRedisGatewayStore,
  StoreUnavailableError,
  type GatewayStore,
  type MemoryStoreOptions,
  type RedisStoreOptions,
} from './store.js';
