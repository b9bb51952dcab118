/**
 * The demo app's tiny server: the static page from `public/`, `/config.json` telling
 * the page where the gateway is, and `GET /api/*` passed on to the quote API, so the page
 * calls the API on its own origin (the quote API sends no CORS headers). Only the
 * `Authorization` header travels to the API. The page gets a strict Content-Security-
 * Policy: a script injected into it could read the token, so nothing but our own script
 * runs, and it may only talk to this server and the gateway.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Options of {@link createSpaServer}. */
export interface SpaServerOptions {
  /** The gateway's public URL, e.g. `http://127.0.0.1:8000`. */
  gatewayUrl: string;
  /** The quote API's base URL, e.g. `http://127.0.0.1:3000`. */
  apiUrl: string;
}

const PUBLIC = new URL('../public/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

function securityHeaders(gatewayOrigin: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src 'self' ${gatewayOrigin}`,
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

/** Passes a GET to the quote API and its answer back (status, type, challenge, body). */
async function proxy(req: IncomingMessage, res: ServerResponse, apiUrl: string): Promise<void> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.headers.authorization !== undefined) headers['authorization'] = req.headers.authorization;
  let upstream: Response;
  try {
    upstream = await fetch(new URL(req.url ?? '/', apiUrl), {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    sendJson(res, 502, {
      error: 'bad_gateway',
      error_description: 'The quote API cannot be reached',
    });
    return;
  }
  const passOn: Record<string, string> = { 'cache-control': 'no-store' };
  for (const name of ['content-type', 'www-authenticate']) {
    const value = upstream.headers.get(name);
    if (value !== null) passOn[name] = value;
  }
  res.writeHead(upstream.status, passOn);
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: SpaServerOptions,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://spa.invalid').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method_not_allowed', error_description: 'Only GET is served' });
    return;
  }
  if (path.startsWith('/api/')) return proxy(req, res, options.apiUrl);
  if (path === '/config.json') return sendJson(res, 200, { gatewayUrl: options.gatewayUrl });
  const entry = Object.hasOwn(FILES, path) ? FILES[path] : undefined;
  if (entry === undefined)
    return sendJson(res, 404, { error: 'not_found', error_description: 'No such page' });
  const body = await readFile(new URL(entry.file, PUBLIC));
  res.writeHead(200, {
    'content-type': entry.type,
    ...securityHeaders(new URL(options.gatewayUrl).origin),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Builds the server (not listening yet). */
export function createSpaServer(options: SpaServerOptions): Server {
  return createServer((req, res) => {
    handle(req, res, options).catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, { error: 'server_error', error_description: 'Something went wrong' });
      else res.destroy();
    });
  });
}
