/**
 * Runs the quote API. With ZITADEL_ISSUER set it trusts that ZITADEL instance (see
 * `config.ts` for the variables); without it, it starts a local test IdP in-process and
 * prints test tokens to call the API with, so it runs with no account anywhere.
 *
 *   npm run build && node examples/koa-quotes/dist/server.js
 */
import { createVerifier, type VerifierOptions } from '@zitauth/core';
import { createApp } from './app.js';
import {
  ConfigError,
  readConfig,
  type Config,
  listen,
  onShutdown,
  createSampleCallers,
  startLocalIdp,
  type LocalIdp,
  sampleCommands,
} from '@zitauth/example-quotes-common';

function configOrExit(): Config {
  try {
    return readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`koa-quotes: ${error.message}`);
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

async function main(): Promise<void> {
  const config = configOrExit();
  const { options, local } = await trust(config);
  const verifier = createVerifier(options);
  const http = await listen(createApp({ auth: { verifier } }).callback(), config.port);
  console.log(`koa-quotes listening on ${http.url}`);
  if (local === undefined) describeZitadel(options);
  else await describeLocal(local, http.url);
  console.log('\nCtrl-C to stop.');
  onShutdown(async () => {
    await http.close();
    verifier.close();
    await local?.idp.close();
  });
}

main().catch((error: unknown) => {
  console.error('koa-quotes: could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
