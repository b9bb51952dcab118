/**
 * The `zitauth-gateway` command: reads the environment (plus a `.env` file, whose values
 * the real environment overrides), starts the embedded test IdP when no ZITADEL is
 * configured, builds the gateway and listens. A configuration mistake exits with status
 * 1 and one line naming the variable to fix. SIGINT and SIGTERM close it cleanly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ZitauthConfigError } from '@zitauth/core';
import { startDevIdp, type DevIdp } from '../dev-idp.js';
import { EnvConfigError, readEnvConfig, type Env, type EnvConfig } from '../env.js';
import { createGateway } from '../gateway.js';
import { GatewayConfigError, type GatewayOptions } from '../options.js';

/** Option names as environment variables, so errors name what the user can change. */
const VARIABLES: Record<string, string> = {
  issuer: 'ZITADEL_ISSUER',
  projectId: 'ZITADEL_PROJECT_ID',
  'login.clientId': 'ZITADEL_CLIENT_ID',
  'm2m.keyFile': 'ZITADEL_SERVICE_KEY_FILE',
  'm2m.clients': 'GATEWAY_M2M_CLIENTS',
  publicUrl: 'GATEWAY_PUBLIC_URL',
  allowedOrigins: 'GATEWAY_ALLOWED_ORIGINS',
  cookieSecret: 'GATEWAY_COOKIE_SECRET',
  returnTo: 'GATEWAY_RETURN_TO',
  trustProxy: 'GATEWAY_TRUST_PROXY',
  upstreams: 'GATEWAY_UPSTREAMS',
  browserMode: 'GATEWAY_BROWSER_MODE',
  'session.sameSite': 'GATEWAY_SESSION_SAMESITE',
};

function loadEnv(): Env {
  const explicit = process.env['GATEWAY_ENV_FILE'];
  const path = explicit ?? '.env';
  if (!existsSync(path)) {
    if (explicit !== undefined)
      throw new EnvConfigError('GATEWAY_ENV_FILE', `there is no file at ${path}`);
    return process.env;
  }
  return { ...parseEnv(readFileSync(path, 'utf8')), ...process.env };
}

function fail(message: string): never {
  console.error(`zitauth-gateway: ${message}`);
  process.exit(1);
}

function explain(error: unknown): string {
  if (error instanceof EnvConfigError) return error.message;
  if (error instanceof GatewayConfigError) {
    const variable = VARIABLES[error.option];
    return variable === undefined
      ? error.message
      : `${variable}: ${error.message.replace(/^.*?: .*?: /, '')}`;
  }
  if (error instanceof ZitauthConfigError) {
    return `${error.message.replace(/^zitauth: /, '')} (check the ZITADEL_* variables)`;
  }
  throw error;
}

function browserLines(config: EnvConfig): string[] {
  if (config.common.browserMode === 'token')
    return ['  browser mode: token (hand-off to page script)'];
  const root = `${config.common.publicUrl}/api`;
  const proxies = Object.keys(config.common.upstreams ?? {}).map((name) => `${root}/${name}/*`);
  return [
    `  browser mode: session  GET ${root}/v1/session  POST ${root}/v1/logout`,
    ...(proxies.length === 0 ? [] : [`  API proxy: ${proxies.join('  ')}`]),
  ];
}

function describe(config: EnvConfig, address: string, dev: DevIdp | undefined): string[] {
  const base = `${config.common.publicUrl}/api/v1`;
  return [
    `zitauth-gateway listening on ${address} (public URL ${config.common.publicUrl})`,
    `  ${base}/login  ${base}/callback  ${base}/logout  POST ${base}/m2m/token`,
    `  ${base}/validate  ${base}/userinfo  /healthz  /readyz`,
    ...browserLines(config),
    `  allowed origins: ${config.common.allowedOrigins.join(', ') || '(none)'}`,
    ...(dev?.summary ?? [`  issuer ${config.zitadel?.issuer ?? ''}`]),
  ];
}

async function main(): Promise<void> {
  let config: EnvConfig;
  try {
    config = readEnvConfig(loadEnv());
  } catch (error) {
    fail(explain(error));
  }
  let dev: DevIdp | undefined;
  try {
    dev =
      config.zitadel === undefined
        ? await startDevIdp({
            publicUrl: config.common.publicUrl,
            allowedOrigins: config.common.allowedOrigins,
            m2mClients: config.m2mClients,
            port: config.devIdpPort,
          })
        : undefined;
  } catch (error) {
    fail((error as Error).message);
  }
  const options: GatewayOptions = { ...(config.zitadel ?? dev!.options), ...config.common };
  let app;
  try {
    app = await createGateway(options);
  } catch (error) {
    await dev?.close();
    fail(explain(error));
  }
  const address = await app.listen({ host: config.host, port: config.port });
  console.log(describe(config, address, dev).join('\n'));
  const stop = async (): Promise<void> => {
    await app.close();
    await dev?.close();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

await main();
