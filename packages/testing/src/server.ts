/**
 * The HTTP server: one route table mapping ZITADEL's paths to handlers, with call
 * counting and fault injection in front of every endpoint and one error boundary behind
 * it, so no input (garbage, oversized, wrong method) can crash the process. Sockets are
 * tracked by node:http and all dropped on close, so tests never hang on keep-alive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IdpContext } from './context.js';
import { handleAuthorize, handleLogin, LOGIN_PATH } from './endpoints/authorize.js';
import { handleDiscovery } from './endpoints/discovery.js';
import { handleEndSession } from './endpoints/end-session.js';
import { handleIntrospect } from './endpoints/introspect.js';
import { handleKeys } from './endpoints/keys.js';
import { handleRevoke } from './endpoints/revoke.js';
import { handleToken } from './endpoints/token.js';
import { handleUserinfo } from './endpoints/userinfo.js';
import { applyFault } from './faults.js';
import { HttpError, sendJson } from './http.js';
import type { Endpoint } from './types.js';

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
  url: URL,
) => Promise<void>;

interface Route {
  readonly endpoint: Endpoint;
  readonly methods: readonly string[];
  readonly handler: Handler;
}

const ROUTES: Record<string, Route> = {
  '/.well-known/openid-configuration': {
    endpoint: 'discovery',
    methods: ['GET', 'HEAD'],
    handler: handleDiscovery,
  },
  '/oauth/v2/keys': { endpoint: 'keys', methods: ['GET', 'HEAD'], handler: handleKeys },
  '/oauth/v2/introspect': { endpoint: 'introspect', methods: ['POST'], handler: handleIntrospect },
  '/oauth/v2/revoke': { endpoint: 'revoke', methods: ['POST'], handler: handleRevoke },
  '/oauth/v2/token': { endpoint: 'token', methods: ['POST'], handler: handleToken },
  '/oidc/v1/userinfo': { endpoint: 'userinfo', methods: ['GET', 'POST'], handler: handleUserinfo },
  '/oauth/v2/authorize': { endpoint: 'authorize', methods: ['GET'], handler: handleAuthorize },
  [LOGIN_PATH]: { endpoint: 'authorize', methods: ['POST'], handler: handleLogin },
  '/oidc/v1/end_session': {
    endpoint: 'end_session',
    methods: ['GET', 'POST'],
    handler: handleEndSession,
  },
};

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof HttpError) {
    const body =
      error.description === undefined
        ? { error: error.error }
        : { error: error.error, error_description: error.description };
    sendJson(res, error.status, body, error.headers);
    return;
  }
  sendJson(res, 500, { error: 'server_error' });
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: IdpContext): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://idp.invalid');
    const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
    if (route === undefined) throw new HttpError(404, 'not_found', 'no such endpoint');
    const fault = ctx.faults.take(route.endpoint);
    if (fault !== undefined && (await applyFault(fault, req, res, ctx.signal))) return;
    if (!route.methods.includes(req.method ?? '')) {
      throw new HttpError(405, 'invalid_request', 'method not allowed', {
        Allow: route.methods.join(', '),
      });
    }
    await route.handler(req, res, ctx, url);
  } catch (error) {
    sendError(res, error);
  }
}

/** Starts listening; resolves the server and the issuer URL it is reachable at. */
export async function listen(
  ctx: () => IdpContext,
  host: string,
  port: number,
): Promise<{ server: Server; issuer: string }> {
  const server = createServer((req, res) => void handle(req, res, ctx()));
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard address is not a URL anyone can call; name the loopback interface instead.
  const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const hostPart = name.includes(':') ? `[${name}]` : name;
  return { server, issuer: `http://${hostPart}:${address.port}` };
}

/** Closes the server and every open connection. */
export function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
