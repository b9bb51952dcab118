/**
 * The demo app's tiny server: the static page from `public/` and `/config.json` telling
 * the page where the gateway is. The page talks only to the gateway, which keeps the
 * tokens (backend-for-frontend) and proxies the quote API.
 *
 * Two placements of the gateway, as in production:
 * - on its own subdomain (`gatewayUrl: 'https://auth.example.com'`): the page calls it
 *   with credentials, and the gateway answers CORS for this origin;
 * - under a path of this origin (`gatewayUrl: '/auth'` with `gatewayUpstream`): this server
 *   forwards `/auth/*` to the gateway, as a reverse proxy in front of both would, so the
 *   session cookie is first-party to the app's own origin.
 *
 * The page gets a strict Content-Security-Policy: nothing but our own script runs, and it
 * may only talk to this origin and the gateway.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Options of {@link createSpaServer}. */
export interface SpaServerOptions {
  /** Where the page finds the gateway: its URL, or a path on this origin such as `/auth`. */
  gatewayUrl: string;
  /**
   * With a path `gatewayUrl`: the gateway's own address, which `${path}/*` is forwarded to.
   * Leave it unset when a reverse proxy in front of this server routes the path itself.
   */
  gatewayUpstream?: string | undefined;
}

const PUBLIC = new URL('../public/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** Hop-by-hop headers a proxy must not pass on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
]);

function securityHeaders(gatewayOrigin: string | undefined): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src 'self'${gatewayOrigin === undefined ? '' : ` ${gatewayOrigin}`}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Forwards a request under the gateway's path to the gateway, cookies and all. */
async function forwardToGateway(
  req: IncomingMessage,
  res: ServerResponse,
  prefix: string,
  upstream: string,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name))
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  let answer: Response;
  try {
    answer = await fetch(new URL((req.url ?? '/').slice(prefix.length) || '/', upstream), {
      method: req.method ?? 'GET',
      headers,
      body: (await readBody(req)) ?? null,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    sendJson(res, 502, {
      error: 'bad_gateway',
      error_description: 'The gateway cannot be reached',
    });
    return;
  }
  const passOn: Record<string, string | string[]> = {};
  answer.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'set-cookie' && name !== 'content-encoding')
      passOn[name] = value;
  });
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) passOn['set-cookie'] = cookies;
  res.writeHead(answer.status, passOn);
  res.end(Buffer.from(await answer.arrayBuffer()));
}

async function serveFile(req: IncomingMessage, res: ServerResponse, options: SpaServerOptions) {
  const path = new URL(req.url ?? '/', 'http://spa.invalid').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method_not_allowed', error_description: 'Only GET is served' });
    return;
  }
  if (path === '/config.json') return sendJson(res, 200, { gatewayUrl: options.gatewayUrl });
  const entry = Object.hasOwn(FILES, path) ? FILES[path] : undefined;
  if (entry === undefined)
    return sendJson(res, 404, { error: 'not_found', error_description: 'No such page' });
  const body = await readFile(new URL(entry.file, PUBLIC));
  const gatewayOrigin = options.gatewayUrl.startsWith('/')
    ? undefined
    : new URL(options.gatewayUrl).origin;
  res.writeHead(200, { 'content-type': entry.type, ...securityHeaders(gatewayOrigin) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function checkOptions(options: SpaServerOptions): void {
  const onPath = options.gatewayUrl.startsWith('/');
  if (onPath && !/^\/[a-z0-9-]+$/.test(options.gatewayUrl))
    throw new TypeError('a gatewayUrl path is one segment, such as /auth');
}

/** Builds the server (not listening yet). */
export function createSpaServer(options: SpaServerOptions): Server {
  checkOptions(options);
  const prefix = options.gatewayUrl.startsWith('/') ? options.gatewayUrl : undefined;
  return createServer((req, res) => {
    const url = req.url ?? '/';
    const handled =
      prefix !== undefined && options.gatewayUpstream !== undefined && url.startsWith(`${prefix}/`)
        ? forwardToGateway(req, res, prefix, options.gatewayUpstream)
        : serveFile(req, res, options);
    handled.catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, { error: 'server_error', error_description: 'Something went wrong' });
      else res.destroy();
    });
  });
}
