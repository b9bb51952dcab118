/**
 * @zitauth/redis: the shared tier of a zitauth fleet on Redis or Valkey. `createRedisStore`
 * plugs into core's `cache.store` (two levels, one IdP call per token fleet-wide);
 * `createRedisKeyValueStore` is the plain TTL store for sessions, one-time codes and counters.
 */
export { createRedisStore, type RedisStore, type RedisStoreOptions } from './store.js';
export { createRedisKeyValueStore, type RedisKeyValueStore } from './key-value.js';
export { RedisUnavailableError, type RedisStateEvent } from './connection.js';
export type { RedisClientLike, RedisConnectionOptions } from './options.js';
