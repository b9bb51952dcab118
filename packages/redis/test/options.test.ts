// Configuration mistakes fail when the store is created, naming the option to fix.
import { describe, expect, it } from 'vitest';
import { createRedisKeyValueStore, createRedisStore } from '@zitauth/redis';

describe('options', () => {
  it.each([
    [{ url: 'http://127.0.0.1:6379' }, 'url must start with redis:// or rediss://'],
    [{ url: 'not a url' }, 'url must be a redis:// or rediss:// URL'],
    [{ commandTimeoutMs: 0 }, 'commandTimeoutMs must be a positive number of milliseconds'],
    [{ connectTimeoutMs: Number.NaN }, 'connectTimeoutMs must be a positive number'],
    [{ retryAfterMs: -1 }, 'retryAfterMs must be a positive number'],
    [{ keyPrefix: 3 as unknown as string }, 'keyPrefix must be a string'],
  ])('refuses %o for both stores', (options, message) => {
    expect(() => createRedisStore(options)).toThrow(message);
    expect(() => createRedisKeyValueStore(options)).toThrow(
      expect.objectContaining({ name: 'ZitauthConfigError', code: 'ERR_ZITAUTH_INVALID_OPTION' }),
    );
  });

  it.each([
    [{ localTtlMs: 0 }, 'localTtlMs must be a positive number of milliseconds'],
    [{ lockTtlMs: Infinity }, 'lockTtlMs must be a positive number'],
    [{ lockWaitMs: -5 }, 'lockWaitMs must be a positive number'],
    [{ localMaxEntries: 1.5 }, 'localMaxEntries must be a positive integer'],
  ])('refuses the cache option %o', (options, message) => {
    expect(() => createRedisStore(options)).toThrow(message);
  });

  it('refuses unknown option keys with the closest known one', () => {
    expect(() => createRedisStore({ lockTtl: 5 } as never)).toThrow(
      '@zitauth/redis: unknown option "lockTtl" in createRedisStore options; did you mean "lockTtlMs"?',
    );
    expect(() => createRedisStore({ keyprefix: 'a:' } as never)).toThrow(
      /did you mean "keyPrefix"\?/,
    );
    // The key-value store has no in-process tier.
    expect(() => createRedisKeyValueStore({ localTtlMs: 5 } as never)).toThrow(
      /unknown option "localTtlMs" in createRedisKeyValueStore options/,
    );
  });

  it('accepts TLS settings and ACL credentials', async () => {
    const store = createRedisStore({
      url: 'rediss://127.0.0.1:1',
      username: 'api',
      password: 'secret',
      tls: { rejectUnauthorized: true, servername: 'redis.internal' },
      connectTimeoutMs: 20,
    });
    await expect(store.ping()).resolves.toBe(false);
    await store.close();
    const plain = createRedisKeyValueStore({ url: 'redis://127.0.0.1:1', tls: false });
    await plain.close();
  });
});
