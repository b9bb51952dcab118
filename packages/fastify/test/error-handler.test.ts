// Error rendering in Fastify: zitauth's handler by default, Fastify's own with
// errorHandler: false, and a user's handler taking over in the same or a child scope.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorHandler, isZitauthError, UpstreamError, zitauth } from '../src/index.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const app of apps.splice(0)) await app.close();
});

type Configure = (app: FastifyInstance) => void;

/**
 * An app whose `/fail` route throws `error` and whose `/me` requires a token. `before`
 * runs before the plugin is registered, `after` after it; both before the routes, since
 * a route keeps the error handler of its scope at the time it is declared.
 */
async function build(
  options: { errorHandler?: boolean } = {},
  error: unknown = new UpstreamError(),
  { before, after }: { before?: Configure; after?: Configure } = {},
): Promise<FastifyInstance> {
  const app = Fastify();
  apps.push(app);
  before?.(app);
  // No IdP answers at idp.example: the start-up check is off, requests get the 503.
  await app.register(zitauth, {
    issuer: 'https://idp.example',
    projectId: '1',
    checkOnReady: false,
    ...options,
  });
  after?.(app);
  app.get('/me', { onRequest: app.authenticate }, async () => 'ok');
  app.get('/fail', async () => {
    throw error;
  });
  return app;
}

/**
 * Two handlers in one scope make Fastify warn (FSTWRN004), which is the documented
 * trade-off of those set-ups; keep the warning out of the test output.
 */
function quietOverride(): void {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
}

const NO_TOKEN = { error: 'unauthorized', error_description: 'No access token was sent' };

describe('default rendering', () => {
  it('answers zitauth errors with status, headers and { error, error_description }', async () => {
    const app = await build();
    const res = await app.inject({ url: '/fail' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token could not be checked; try again later',
    });
  });

  it("leaves other errors to Fastify's default handler", async () => {
    const app = await build({}, new Error('boom'));
    const res = await app.inject({ url: '/fail' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ statusCode: 500, message: 'boom' });
  });

  it('hands other errors to a handler set before the plugin', async () => {
    quietOverride();
    const app = await build({}, new Error('boom'), {
      before: (a) => a.setErrorHandler(async (_error, _req, reply) => reply.code(418).send('mine')),
    });
    expect((await app.inject({ url: '/fail' })).statusCode).toBe(418);
    expect((await app.inject({ url: '/me' })).json()).toEqual(NO_TOKEN);
  });
});

describe('taking over', () => {
  it("uses Fastify's format, with status and challenge, when errorHandler is false", async () => {
    const app = await build({ errorHandler: false });
    const res = await app.inject({ url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.json()).toEqual({
      statusCode: 401,
      code: 'ERR_ZITAUTH_NO_TOKEN',
      error: 'Unauthorized',
      message: 'No access token was sent',
    });
  });

  it('lets a handler set after the plugin render zitauth errors or rethrow them', async () => {
    quietOverride();
    const app = await build({}, new UpstreamError(), {
      after: (a) =>
        a.setErrorHandler(async (error, request, reply) => {
          if (request.url === '/me' && isZitauthError(error)) {
            return reply.code(error.status).headers(error.headers).send({ denied: error.code });
          }
          throw error; // falls back to zitauth's rendering
        }),
    });
    expect((await app.inject({ url: '/me' })).json()).toEqual({ denied: 'ERR_ZITAUTH_NO_TOKEN' });
    expect((await app.inject({ url: '/fail' })).statusCode).toBe(503);
    expect((await app.inject({ url: '/fail' })).json()).toMatchObject({
      error: 'temporarily_unavailable',
    });
  });

  it('lets a handler in a child scope take over for that scope only', async () => {
    const app = await build();
    await app.register(async (child) => {
      child.setErrorHandler(async (error, request, reply) => {
        if (request.url === '/rethrown') throw error; // falls back to zitauth's rendering
        return reply.code(401).send('child');
      });
      child.get('/child', { onRequest: child.authenticate }, async () => 'ok');
      child.get('/rethrown', { onRequest: child.authenticate }, async () => 'ok');
    });
    expect((await app.inject({ url: '/child' })).body).toBe('child');
    expect((await app.inject({ url: '/rethrown' })).json()).toEqual(NO_TOKEN);
    expect((await app.inject({ url: '/me' })).json()).toEqual(NO_TOKEN);
  });

  it('exports errorHandler() for a handler of your own to delegate to', async () => {
    const zitauthErrors = errorHandler();
    const app = await build({ errorHandler: false }, new Error('boom'), {
      after: (a) =>
        a.setErrorHandler(async (error, request, reply) => {
          if (isZitauthError(error)) return zitauthErrors(error, request, reply);
          return reply.code(500).send('mine');
        }),
    });
    expect((await app.inject({ url: '/me' })).json()).toEqual(NO_TOKEN);
    expect((await app.inject({ url: '/fail' })).body).toBe('mine');
  });
});
