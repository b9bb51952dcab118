/**
 * The no-account mode: a local ZITADEL-compatible IdP from @zitauth/testing, a service user
 * (role `mcp-user`, client credentials, JWT access tokens) and the MCP server on
 * 127.0.0.1, its protected resource metadata pointing to that IdP.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { createApp, MCP_ROLE } from './app.js';

/** Everything local mode started, and how to stop it. */
export interface LocalWorld {
  /** The IdP, to create more users. */
  idp: TestIdp;
  issuer: string;
  projectId: string;
  serverUrl: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * The scopes a client should ask ZITADEL for: the project as audience, so the API accepts
 * the token, and the roles claim, so the role guard sees `mcp-user`.
 */
export function zitadelScopes(projectId: string): string[] {
  return [
    'openid',
    `urn:zitadel:iam:org:project:id:${projectId}:aud`,
    'urn:zitadel:iam:org:projects:roles',
  ];
}

/** Starts the IdP, a service user allowed to use the server, and the server. */
export async function startLocalWorld(): Promise<LocalWorld> {
  const idp = await startTestIdp();
  const projectId = idp.defaultProject.id;
  const client = idp.createServiceUser({ userName: 'mcp-agent', roles: [MCP_ROLE] });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The resource identifier is the server's public URL, known once the port is.
  const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const app = createApp({
    auth: {
      issuer: idp.issuer,
      projectId,
      mode: 'jwt',
      protectedResource: {
        resource: serverUrl,
        scopes: zitadelScopes(projectId),
        resourceName: 'zitauth MCP example',
      },
    },
  });
  server.on('request', app);
  return {
    idp,
    issuer: idp.issuer,
    projectId,
    serverUrl,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    close: async () => {
      (app.locals['close'] as () => void)();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.close();
    },
  };
}
