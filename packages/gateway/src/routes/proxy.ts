/**
 * The API proxy of the backend-for-frontend mode: `/api/{name}/{path}` goes to the
 * upstream configured as `name`, with the session's access token attached as a bearer
 * token (refreshed first when it is about to expire). The browser's cookies and any
 * `Authorization` it sent are not forwarded, nor are the upstream's cookies returned:
 * the upstream sees the user only through the token, and the gateway's origin gets no
 * cookie it did not set. State-changing methods need the CSRF header.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSessions } from '../browser-sessions.js';
import { GatewayError } from '../http-errors.js';
import { requireSession } from './session.js';

/** Longest an upstream call may take, in milliseconds. */
const UPSTREAM_TIMEOUT_MS = 30_000;
/** Largest request body forwarded, in bytes. */
const BODY_LIMIT = 1024 * 1024;

// HEAD comes with GET: Fastify adds it to every GET route.
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Request headers never forwarded: hop-by-hop, credentials, and the gateway's own. */
const DROP_REQUEST = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'cookie',
  'authorization',
  'origin',
  'referer',
  'x-zitauth-csrf',
]);

/** Response headers never returned: hop-by-hop, cookies, and what fetch already undid. */
const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'set-cookie',
  'content-encoding',
  'content-length',
]);

/** The upstream URL of a request, or a 404/400 when there is none or the path escapes it. */
function upstreamUrl(upstreams: ReadonlyMap<string, URL>, request: FastifyRequest): URL {
  const match = /^\/api\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(request.url);
  const base = match?.[1] === undefined ? undefined : upstreams.get(match[1]);
  if (match === null || base === undefined)
    throw new GatewayError(404, 'not_found', 'No such route');
  const path = match[2] ?? '/';
  // Dot segments (also percent-encoded) would let a path climb above the upstream's base.
  const segments = path.split('/').map((s) => s.replace(/%2e/gi, '.'));
  if (segments.some((s) => s === '.' || s === '..') || /%2f|%5c|\\/i.test(path))
    throw new GatewayError(400, 'invalid_request', 'The path is not acceptable');
  const target = new URL(base.href);
  target.pathname = `${base.pathname.replace(/\/$/, '')}${path}`;
  target.search = match[3] ?? '';
  return target;
}

function forwardedHeaders(request: FastifyRequest, accessToken: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || DROP_REQUEST.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  headers.set('authorization', `Bearer ${accessToken}`);
  return headers;
}

async function forward(
  browser: BrowserSessions,
  upstreams: ReadonlyMap<string, URL>,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const target = upstreamUrl(upstreams, request);
  browser.checkCsrf(request);
  const { data } = await requireSession(browser, request);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  let response: Response;
  try {
    response = await fetch(target, {
      method: request.method,
      headers: forwardedHeaders(request, data.accessToken),
      body: hasBody && Buffer.isBuffer(request.body) ? request.body : null,
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (error) {
    request.log.warn(
      { upstream: target.origin, reason: (error as Error).name },
      'an upstream API could not be reached',
    );
    throw new GatewayError(502, 'bad_gateway', 'The upstream API cannot be reached');
  }
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (!DROP_RESPONSE.has(name)) reply.header(name, value);
  });
  reply.header('cache-control', response.headers.get('cache-control') ?? 'no-store');
  if (response.body === null) return reply.send();
  return reply.send(Readable.fromWeb(response.body as WebReadableStream));
}

/** Parses `name=url,name=url`-style upstreams into checked base URLs. */
export function upstreamMap(upstreams: Readonly<Record<string, string>>): Map<string, URL> {
  return new Map(Object.entries(upstreams).map(([name, url]) => [name, new URL(url)]));
}

/** Registers `/api/{name}/*` for each configured upstream. */
export async function proxyRoutes(
  app: FastifyInstance,
  browser: BrowserSessions,
  upstreams: ReadonlyMap<string, URL>,
): Promise<void> {
  if (upstreams.size === 0) return;
  await app.register(async (scope) => {
    // Bodies pass through untouched: whatever the upstream accepts, as bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
      (_r, body, done) => done(null, body),
    );
    for (const name of upstreams.keys()) {
      scope.route({
        method: [...METHODS],
        url: `/api/${name}/*`,
        handler: (request, reply) => forward(browser, upstreams, request, reply),
      });
      scope.route({
        method: [...METHODS],
        url: `/api/${name}`,
        handler: (request, reply) => forward(browser, upstreams, request, reply),
      });
    }
  });
}
