/**
 * Runs one quote API example: reads the environment (exiting with a message that names the
 * wrong variable), trusts the configured ZITADEL or starts a local test IdP, shares its
 * cache on Redis when REDIS_URL is set (one instance of a fleet), lets the
 * example serve its app, prints what it trusts (and, locally, test tokens with curl
 * lines), and shuts everything down on SIGINT/SIGTERM.
 */
import {
  createVerifier,
  type CacheOptions,
  type Verifier,
  type VerifierOptions,
} from '@zitauth/core';
import { subscribe } from 'node:diagnostics_channel';
import { createRedisStore, type RedisStateEvent, type RedisStore } from '@zitauth/redis';
import { ConfigError, readConfig, type Config } from './config.js';
import { onShutdown } from './listen.js';
import { createSampleCallers, startLocalIdp, type LocalIdp } from './local-idp.js';
import { sampleCommands } from './samples.js';

/** A listening app: where it is and how to stop it (letting requests in flight finish). */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Starts the framework's app with this verifier on this port (127.0.0.1 only). */
export type Serve = (verifier: Verifier, port: number) => Promise<Served>;

function configOrExit(name: string): Config {
  try {
    return readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${name}: ${error.message}`);
    process.exit(1);
  }
}

function describeZitadel(options: VerifierOptions): void {
  const introspection =
    options.introspection === undefined
      ? 'off: opaque tokens are refused (set ZITADEL_CLIENT_ID/SECRET or ZITADEL_KEY_FILE)'
      : 'keyFile' in options.introspection
        ? 'on, with the application key file'
        : `on, as client ${options.introspection.clientId}`;
  console.log(`  issuer         ${options.issuer}`);
  console.log(`  project        ${options.projectId ?? '-'}`);
  console.log(`  introspection  ${introspection}`);
}

async function describeLocal(local: LocalIdp, url: string): Promise<void> {
  console.log(`  issuer         ${local.idp.issuer}   (local test IdP: no ZITADEL_ISSUER set)`);
  console.log(`  project        ${local.idp.defaultProject.id}`);
  console.log(`  introspection  on, as API app ${local.apiClientId} (Basic auth)`);
  const callers = await createSampleCallers(local.idp);
  console.log(['', ...sampleCommands(url, callers)].join('\n'));
}

/** The ZITADEL instance to trust: the configured one, or a local test IdP started here. */
async function trust(config: Config): Promise<{ options: VerifierOptions; local?: LocalIdp }> {
  if (config.zitadel !== undefined) return { options: config.zitadel };
  const local = await startLocalIdp();
  return { options: local.verifierOptions, local };
}

/** The verifier's cache settings: shared on Redis when REDIS_URL is set. */
function cacheOf(config: Config): { cache: CacheOptions; store?: RedisStore } {
  const cache: CacheOptions = {};
  if (config.cacheMaxTtlMs !== undefined) cache.maxTtlMs = config.cacheMaxTtlMs;
  if (config.redisUrl === undefined) return { cache };
  const store = createRedisStore({
    url: config.redisUrl,
    ...(config.redisCommandTimeoutMs === undefined
      ? {}
      : { commandTimeoutMs: config.redisCommandTimeoutMs }),
  });
  const { protocol, host } = new URL(config.redisUrl);
  console.log(`  cache          shared on Redis at ${protocol}//${host}`);
  // An operator sees when the fleet stops sharing (requests are still answered).
  subscribe('zitauth:redis', (message) => {
    const event = message as RedisStateEvent;
    console.warn(`redis ${event.state}${event.reason === undefined ? '' : `: ${event.reason}`}`);
  });
  return { cache: { ...cache, store }, store };
}

async function start(name: string, serve: Serve): Promise<void> {
  const config = configOrExit(name);
  const { options, local } = await trust(config);
  const { cache, store } = cacheOf(config);
  const verifier = createVerifier({ ...options, cache: { ...options.cache, ...cache } });
  const served = await serve(verifier, config.port);
  console.log(`${name} listening on ${served.url}`);
  if (local === undefined) describeZitadel(options);
  else await describeLocal(local, served.url);
  console.log('\nCtrl-C to stop.');
  onShutdown(async () => {
    await served.close();
    verifier.close();
    await store?.close();
    await local?.idp.close();
  });
}

/** Runs the example named `name`; a failure to start is printed and exits with 1. */
export function runExample(name: string, serve: Serve): void {
  start(name, serve).catch((error: unknown) => {
    console.error(`${name}: could not start:`, error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
