/**
 * Runs the client against the local world (no account needed), or against a server named
 * by MCP_SERVER_URL with MCP_CLIENT_ID and MCP_CLIENT_SECRET (a ZITADEL service user's
 * client credentials). Prints each discovery step; never the token.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runClient, type ClientRun } from './client.js';
import { startLocalWorld } from './local.js';

/** How `main` was asked to run. */
export interface MainOptions {
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

/** The client's run, after the local world (if any) is stopped. */
export async function main({ env, log }: MainOptions): Promise<ClientRun & { mode: string }> {
  const serverUrl = env['MCP_SERVER_URL']?.trim();
  if (serverUrl) {
    const clientId = env['MCP_CLIENT_ID'] ?? '';
    const clientSecret = env['MCP_CLIENT_SECRET'] ?? '';
    if (clientId === '' || clientSecret === '') {
      throw new Error('MCP_SERVER_URL is set: set MCP_CLIENT_ID and MCP_CLIENT_SECRET as well');
    }
    return { mode: 'remote', ...(await runClient({ serverUrl, clientId, clientSecret, log })) };
  }
  const world = await startLocalWorld();
  log(`local testing IdP at ${world.issuer}, MCP server at ${world.serverUrl}`);
  try {
    const run = await runClient({ ...world, log });
    return { mode: 'local', ...run };
  } finally {
    await world.close();
  }
}

// Run directly (`node dist/main.js`), not when imported by a test.
const entry = process.argv[1];
if (entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url)) {
  main({ env: process.env, log: (line) => console.log(line) }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
