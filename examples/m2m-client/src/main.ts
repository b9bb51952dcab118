/**
 * A backend service calling a protected API with its own identity: it signs in as a
 * ZITADEL service user with the user's key file (JWT bearer grant), gets an access token
 * for the API's project, and calls the API with it. The token client caches the token,
 * refreshes it before it expires and renews it once if the API answers 401.
 *
 *   node examples/m2m-client/dist/main.js       local testing IdP, no account needed
 *   ZITADEL_ISSUER=… ZITADEL_KEY_FILE=… API_URL=… node examples/m2m-client/dist/main.js
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTokenClient, TokenRequestError } from '@zitauth/core/token-client';
import { readConfig, type RemoteConfig } from './config.js';
import { startLocalWorld } from './local.js';

/** Options of {@link main}; tests pass their own environment and logger. */
export interface MainOptions {
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** @default console.log */
  log?: (line: string) => void;
}

/** What the run got from the API. */
export interface MainResult {
  mode: 'local' | 'remote';
  status: number;
  body: unknown;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Never print a token: only what kind it is. */
function describeToken(token: string): string {
  return token.split('.').length === 3 ? `a JWT of ${token.length} characters` : 'an opaque token';
}

async function callApi(config: RemoteConfig, log: (line: string) => void) {
  const client = createTokenClient({
    issuer: config.issuer,
    keyFile: config.keyFile,
    projectIds: config.projectId === undefined ? [] : [config.projectId],
  });
  try {
    const token = await client.getTokenResponse();
    log(`token: ${describeToken(token.accessToken)}, expires ${token.expiresAt.toISOString()}`);
    log(`scope: ${token.scope ?? '(not reported by the IdP)'}`);
    const response = await client.fetch(config.apiUrl, { headers: { accept: 'application/json' } });
    const body = await readBody(response);
    log(`GET ${config.apiUrl} -> ${response.status}`);
    log(JSON.stringify(body, null, 2));
    // Cached: no second token request until shortly before the token expires.
    await client.getToken();
    return { status: response.status, body };
  } finally {
    client.close();
  }
}

/** Gets a token, calls the API, prints what came back. */
export async function main(options: MainOptions = {}): Promise<MainResult> {
  const log = options.log ?? console.log;
  const remote = readConfig(options.env ?? process.env);
  if (remote !== undefined) {
    log(`ZITADEL at ${remote.issuer}`);
    return { mode: 'remote', ...(await callApi(remote, log)) };
  }
  const local = await startLocalWorld();
  try {
    log(`local testing IdP at ${local.issuer} (set ZITADEL_ISSUER to use a real ZITADEL)`);
    return { mode: 'local', ...(await callApi(local, log)) };
  } finally {
    await local.close();
  }
}

function explain(error: unknown): string {
  if (error instanceof TokenRequestError) {
    const detail =
      error.oauthErrorDescription === undefined ? '' : ` (${error.oauthErrorDescription})`;
    return `${error.message}${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url)) {
  main().then(
    (result) => {
      process.exitCode = result.status === 200 ? 0 : 1;
    },
    (error: unknown) => {
      console.error(`m2m-client: ${explain(error)}`);
      process.exitCode = 1;
    },
  );
}
