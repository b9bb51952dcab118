/**
 * `createGateway`: the ZitAuth gateway as a Fastify app, built from checked options and
 * ready to `listen` (or `inject` in tests). One verifier, one discovery document and one
 * M2M token client are shared by all routes and closed with the app. It reads no
 * environment and opens no port; `bin/zitauth-gateway` does both.
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { createDiscovery, createVerifier, isZitauthError } from '@zitauth/core';
import { errorHandler, zitauth } from '@zitauth/fastify';
import { API_PREFIX, REALM, type GatewayContext } from './context.js';
import { createBrowserSessions, type BrowserSessions } from './browser-sessions.js';
import { addCors, addSessionCors } from './cors.js';
import { GatewayError, sendGatewayError } from './http-errors.js';
import { loggerOptions } from './logging.js';
import { resolveOptions, type GatewayOptions, type ResolvedOptions } from './options.js';
import { healthRoutes } from './routes/health.js';
import { handoffRoutes } from './routes/handoff.js';
import { loginRoutes } from './routes/login.js';
import { m2mRoutes } from './routes/m2m.js';
import { proxyRoutes, upstreamMap } from './routes/proxy.js';
import { sessionRoutes } from './routes/session.js';
import { userinfoRoutes } from './routes/userinfo.js';
import { validateRoutes } from './routes/validate.js';
import {
  createMemoryStore,
  createRedisGatewayStore,
  waitForStore,
  type GatewayStore,
} from './store.js';

/** Renders gateway and zitauth errors; anything else is a 4xx from Fastify or a 500. */
function renderErrors(): (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => void {
  const renderZitauth = errorHandler();
  return (error, request, reply) => {
    if (error instanceof GatewayError) return void sendGatewayError(reply, error);
    if (isZitauthError(error)) return renderZitauth(error, request, reply);
    const status = error.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return void reply
        .code(status)
        .send({ error: 'invalid_request', error_description: 'The request is not acceptable' });
    }
    request.log.error({ err: error }, 'unexpected error');
    void reply.code(500).send({ error: 'server_error', error_description: 'Something went wrong' });
  };
}

/**
 * Fastify's `trustProxy`. A hop count becomes a function trusting that many hops from
 * the gateway (proxy-addr walks `X-Forwarded-For` from the right), so the left-most
 * entries, which the client wrote, are never taken as its address.
 */
function trustProxy(
  value: ResolvedOptions['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value === false ? false : [...value];
}

function buildContext(config: ResolvedOptions, store: GatewayStore): GatewayContext {
  const http = {
    timeoutMs: config.timeoutMs,
    ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
  };
  const verifier = createVerifier({
    issuer: config.issuer,
    projectId: config.projectId,
    realm: REALM,
    ...http,
    ...(config.introspection === undefined ? {} : { introspection: config.introspection }),
  });
  return { config, verifier, discovery: createDiscovery(config.issuer, http), store };
}

/** The store the options ask for, and whether the gateway owns (and so closes) it. */
function openStore(config: ResolvedOptions): { store: GatewayStore; owned: boolean } {
  if (config.store !== undefined) return { store: config.store, owned: false };
  if (config.redis !== undefined)
    return { store: createRedisGatewayStore(config.redis), owned: true };
  return { store: createMemoryStore(), owned: true };
}

/** Gives Redis a moment to answer before the first request; starts anyway, with a warning. */
async function awaitRedis(app: FastifyInstance, config: ResolvedOptions, store: GatewayStore) {
  if (config.redis === undefined) return;
  if (await waitForStore(store, config.redis.connectTimeoutMs ?? 1000)) return;
  app.log.warn('the gateway store (Redis) does not answer yet; sessions answer 503 until it does');
}

/** Session mode: the session routes and the API proxy, with credentialed CORS. */
async function browserRoutes(
  app: FastifyInstance,
  ctx: GatewayContext,
): Promise<BrowserSessions | undefined> {
  if (ctx.config.browserMode !== 'session') return undefined;
  const browser = createBrowserSessions(ctx, ctx.store, app.log);
  if (browser === undefined) return undefined;
  const upstreams = upstreamMap(ctx.config.upstreams);
  const paths = [`${API_PREFIX}/session`, `${API_PREFIX}/logout`];
  for (const name of upstreams.keys()) paths.push(`/api/${name}`, `/api/${name}/*`);
  addSessionCors(app, paths, ctx.config.allowedOrigins);
  sessionRoutes(app, ctx, browser);
  await proxyRoutes(app, browser, upstreams);
  return browser;
}

/**
 * Builds the gateway. Throws `GatewayConfigError` (or core's `ZitauthConfigError`) at
 * once when the options are wrong.
 */
export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const config = resolveOptions(options);
  const { store, owned } = openStore(config);
  const ctx = buildContext(config, store);
  const app = Fastify({
    logger: config.logger === false ? false : loggerOptions(config.logger ?? {}),
    trustProxy: trustProxy(config.trustProxy),
    bodyLimit: 16 * 1024,
    return503OnClosing: true,
  });
  app.setErrorHandler(renderErrors());
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: 'not_found', error_description: 'No such route' });
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  // The adapter owns token checks on /validate; it renders through the handlers above.
  await app.register(zitauth, { verifier: ctx.verifier, errorHandler: false });
  app.addHook('onClose', async () => ctx.verifier.close());
  if (owned) app.addHook('onClose', async () => store.close());
  try {
    addCors(app, [`${API_PREFIX}/validate`, `${API_PREFIX}/userinfo`], config.allowedOrigins);
    const browser = await browserRoutes(app, ctx);
    loginRoutes(app, ctx, browser);
    if (config.browserMode === 'token') {
      addCors(app, [`${API_PREFIX}/handoff`], config.allowedOrigins, 'POST');
      handoffRoutes(app, ctx);
    }
    m2mRoutes(app, ctx);
    await validateRoutes(app, ctx);
    userinfoRoutes(app, ctx);
    healthRoutes(app, ctx);
  } catch (error) {
    // A route refused its options: release the verifier and the Redis connection, or they
    // would keep the process alive.
    await app.close();
    throw error;
  }
  await awaitRedis(app, config, store);
  return app;
}
