#!/usr/bin/env node
/**
 * `zitauth-testing-idp`: runs the local IdP from a shell, for manual testing and demos. It
 * creates a user with roles, an API app and a service user, writes their key files, and
 * prints everything needed to call a protected API; it runs until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startTestIdp } from './index.js';

const USAGE = `Usage: zitauth-testing-idp [--port <port>] [--host <host>]

  --port  port to listen on (default 0: a free port)
  --host  interface to listen on (default 127.0.0.1)`;

function readOptions(): { port: number; host: string } | undefined {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  const port = Number(values.port ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`invalid --port ${values.port}`);
  return { port, host: values.host ?? '127.0.0.1' };
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options === undefined) {
    console.log(USAGE);
    return;
  }
  const idp = await startTestIdp(options);
  const user = idp.createUser({ userName: 'alice', roles: ['admin', 'reader'] });
  const api = idp.createApiApp({ auth: 'private_key_jwt' });
  const basicApi = idp.createApiApp({ auth: 'basic' });
  const service = idp.createServiceUser({ roles: ['reader'] });
  const apiKeyPath = await idp.writeKeyFile(api.keyFile);
  const serviceKeyPath = await idp.writeKeyFile(service.keyFile);
  const jwt = await idp.mintAccessToken({ subject: user.id });
  const opaque = await idp.mintAccessToken({ subject: user.id, format: 'opaque' });
  console.log(`issuer            ${idp.issuer}
project id        ${idp.defaultProject.id}
org id            ${idp.defaultOrg.id}
user              ${user.loginName} / ${user.password} (roles admin, reader)
API app key file  ${apiKeyPath}
API app (Basic)   ${basicApi.clientId} / ${basicApi.clientSecret}
service user key  ${serviceKeyPath}
service user PAT  ${service.pat}

JWT access token (roles admin, reader):
${jwt}

opaque access token (roles admin, reader):
${opaque}

Press Ctrl+C to stop.`);
  // close() also removes the key files written above.
  const stop = (): void => void idp.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
