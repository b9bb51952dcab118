/**
 * The no-account mode: a local ZITADEL-compatible IdP from @zitauth/testing with a service
 * user (role `reader`, JWT access tokens) whose key file is written to a temporary
 * directory, exactly as a real one is downloaded from the console, and a tiny API that
 * accepts only tokens for the project. The API uses core's verifier directly, so the
 * example needs no web framework; the Express, Koa and Fastify examples show the adapters.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, isZitauthError, type Verifier } from '@zitauth/core';
import { startTestIdp } from '@zitauth/testing';
import type { RemoteConfig } from './config.js';

/** Everything local mode started, and how to stop it. */
export interface LocalWorld extends RemoteConfig {
  projectId: string;
  close(): Promise<void>;
}

/** GET /api/whoami: the verified caller, or the verifier's RFC 6750 error. */
function handle(verifier: Verifier) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const caller = await verifier.authenticate({
        authorization: req.headersDistinct.authorization,
      });
      const body = { subject: caller?.subject, clientId: caller?.clientId, roles: caller?.roles };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (error) {
      const status = isZitauthError(error) ? error.status : 500;
      const headers = isZitauthError(error) ? error.headers : {};
      const body = isZitauthError(error) ? error.body : { error: 'server_error' };
      res.writeHead(status, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts the local IdP, a service user with a key file, and the protected API. */
export async function startLocalWorld(): Promise<LocalWorld> {
  const idp = await startTestIdp();
  const projectId = idp.defaultProject.id;
  const serviceUser = idp.createServiceUser({
    userName: 'report-job',
    roles: ['reader'],
    accessTokenType: 'jwt',
  });
  const keyDir = await mkdtemp(join(tmpdir(), 'zitauth-m2m-'));
  const keyFile = await idp.writeKeyFile(serviceUser.keyFile, keyDir);
  // JWT access tokens are checked locally against the IdP's keys: no introspection client needed.
  const verifier = createVerifier({ issuer: idp.issuer, projectId, mode: 'jwt' });
  const onRequest = handle(verifier);
  const server = createServer((req, res) => void onRequest(req, res));
  const origin = await listen(server);
  return {
    issuer: idp.issuer,
    keyFile,
    projectId,
    apiUrl: `${origin}/api/whoami`,
    close: async () => {
      verifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.close();
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}
