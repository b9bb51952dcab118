/**
 * CORS for the routes a single-page app calls from the browser (`/validate`,
 * `/userinfo`, and in token mode `POST /handoff`). Only allowed origins get `Access-Control-Allow-Origin`, echoed exactly
 * (never `*`), and no credentials mode: the token travels in `Authorization`, not in a
 * cookie, so another site cannot ride on a user's session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

function allowOrigin(
  request: FastifyRequest,
  reply: FastifyReply,
  origins: readonly string[],
): boolean {
  // Caches must key on Origin, or one site's answer could be served to another.
  reply.header('vary', 'Origin');
  const origin = request.headers.origin;
  if (origin === undefined || !origins.includes(origin)) return false;
  reply.header('access-control-allow-origin', origin);
  return true;
}

/** Adds CORS to `paths` of `app` (GET unless `method` says otherwise): headers on answers and a preflight route each. */
export function addCors(
  app: FastifyInstance,
  paths: readonly string[],
  origins: readonly string[],
  method: 'GET' | 'POST' = 'GET',
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (paths.includes(request.routeOptions.url ?? '')) allowOrigin(request, reply, origins);
  });
  for (const path of paths) {
    app.options(path, async (request, reply) => {
      if (allowOrigin(request, reply, origins)) {
        reply.headers({
          'access-control-allow-methods': method,
          'access-control-allow-headers': method === 'GET' ? 'Authorization' : 'Content-Type',
          'access-control-max-age': '600',
        });
      }
      return reply.code(204).send();
    });
  }
}

/** Methods and headers a page on an allowed origin may use on the session routes. */
const SESSION_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const SESSION_HEADERS = 'X-Zitauth-CSRF, Content-Type, Accept';

/**
 * Credentialed CORS for the session routes and the API proxy, for a gateway on its own
 * subdomain (`auth.example.com` serving `app.example.com`): the app calls with
 * `credentials: 'include'` and the session cookie goes along. Only allowed origins are
 * echoed, with `Access-Control-Allow-Credentials: true`; any other origin gets no CORS
 * headers, so its page can neither read the answers nor pass the preflight that the CSRF
 * header forces on state-changing requests. `paths` are route patterns as registered.
 */
export function addSessionCors(
  app: FastifyInstance,
  paths: readonly string[],
  origins: readonly string[],
): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!paths.includes(request.routeOptions.url ?? '')) return;
    if (allowOrigin(request, reply, origins))
      reply.header('access-control-allow-credentials', 'true');
  });
  for (const path of paths) {
    app.options(path, async (request, reply) => {
      if (allowOrigin(request, reply, origins)) {
        reply.headers({
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': SESSION_METHODS,
          'access-control-allow-headers': SESSION_HEADERS,
          'access-control-max-age': '600',
        });
      }
      return reply.code(204).send();
    });
  }
}
