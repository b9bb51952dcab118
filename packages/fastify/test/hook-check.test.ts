// A route whose hook was undefined when declared (app.authenticate read where no zitauth
// plugin had loaded) fails start-up, whatever the error handler option; a route that
// leaves the hook out, or whose undefined hook zitauth cannot have caused, starts.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { describe, expect, it } from 'vitest';
import { authenticate, authenticateOptional, zitauth, ZitauthConfigError } from '../src/index.js';
import { useHarness } from './harness.js';

const { newApp, options } = useHarness();
const handler = async () => 'open';

/** The reason `app.ready()` rejected with, or `undefined` if it started. */
async function startupFailure(app: FastifyInstance): Promise<unknown> {
  return app.ready().then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

describe('routes declared with an undefined hook', () => {
  it('fails start-up for app.authenticate read after an unawaited register; nothing listens', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    app.get('/x', { onRequest: app.authenticate }, handler);
    const failure = app.listen({ port: 0, host: '127.0.0.1' });
    await expect(failure).rejects.toThrow(ZitauthConfigError);
    await expect(failure).rejects.toThrow(
      /^zitauth: GET \/x \(onRequest\), HEAD \/x \(onRequest\) were declared with an undefined hook where no zitauth plugin had loaded, so they would be open.*Write await app\.register\(zitauth, …\) there before declaring routes, or use the imported hook/,
    );
    expect(app.server.listening).toBe(false);
  });

  it('fails start-up the same way with errorHandler: false', async () => {
    const app = newApp();
    void app.register(zitauth, { ...options(), errorHandler: false });
    app.post('/orders', { onRequest: app.authenticate }, handler);
    const error = await startupFailure(app);
    expect(error).toBeInstanceOf(ZitauthConfigError);
    expect((error as Error).message).toMatch(/^zitauth: POST \/orders \(onRequest\) was declared/);
  });

  it('names the hook each undefined decoration was given as', async () => {
    const app = newApp();
    void app.register(zitauth, { ...options(), errorHandler: false });
    app.post('/a', { preHandler: app.authenticate }, handler);
    app.post('/b', { onRequest: app.authenticateOptional }, handler);
    app.route({ method: ['PUT', 'PATCH'], url: '/c', preValidation: app.authenticate, handler });
    const error = await startupFailure(app);
    expect((error as Error).message).toMatch(
      /^zitauth: POST \/a \(preHandler\), POST \/b \(onRequest\), PUT \/c \(preValidation\), PATCH \/c \(preValidation\) were declared/,
    );
  });

  it('names the first five routes and counts the rest', async () => {
    const app = newApp();
    void app.register(zitauth, { ...options(), errorHandler: false });
    for (const path of ['/a', '/b', '/c']) app.post(path, { onRequest: app.authenticate }, handler);
    app.get('/d', { onRequest: app.authenticate }, handler);
    await expect(app.ready()).rejects.toThrow(
      /^zitauth: POST \/a \(onRequest\), POST \/b \(onRequest\), POST \/c \(onRequest\), GET \/d \(onRequest\), HEAD \/d \(onRequest\) were declared/,
    );
    const six = newApp();
    void six.register(zitauth, { ...options(), errorHandler: false });
    for (const path of ['/a', '/b', '/c']) six.get(path, { onRequest: six.authenticate }, handler);
    await expect(six.ready()).rejects.toThrow(/GET \/c \(onRequest\) and 1 more were declared/);
  });

  it('fails start-up when the plugin sits in a sibling scope', async () => {
    const app = newApp();
    await app.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    await app.register(
      async (api) => {
        api.get('/me', { onRequest: api.authenticate }, handler);
      },
      { prefix: '/api' },
    );
    const failure = app.listen({ port: 0, host: '127.0.0.1' });
    await expect(failure).rejects.toThrow(/^zitauth: GET \/api\/me \(onRequest\), HEAD/);
    await expect(failure).rejects.toThrow(/a plugin in a sibling scope does not reach it/);
    expect(app.server.listening).toBe(false);
  });

  it('fails start-up for a route of the parent scope when the plugin sits in a child', async () => {
    const app = newApp();
    await app.register(async (child) => {
      await child.register(zitauth, options());
    });
    app.get('/root', { onRequest: app.authenticate }, handler);
    await expect(app.ready()).rejects.toThrow(/^zitauth: GET \/root \(onRequest\)/);
  });

  it('fails start-up for app.authenticate read before register, and in a plugin loaded before it', async () => {
    const app = newApp();
    app.get('/early', { onRequest: app.authenticate }, handler);
    void app.register(
      fp(async (scope) => {
        scope.get('/files', { onRequest: scope.authenticate }, handler);
      }),
    );
    await app.register(zitauth, { ...options(), errorHandler: false });
    const message = ((await startupFailure(app)) as Error).message;
    expect(message).toContain('GET /early (onRequest)');
    expect(message).toContain('GET /files (onRequest)');
  });

  it('leaves [app.authenticate] before the load to Fastify, which refuses it on the spot', () => {
    const app = newApp();
    void app.register(zitauth, options());
    expect(() => app.get('/x', { onRequest: [app.authenticate] }, handler)).toThrow(
      expect.objectContaining({ code: 'FST_ERR_HOOK_INVALID_HANDLER' }),
    );
  });

  it('starts with a public route written without the hook, declared in the same gap', async () => {
    const app = newApp();
    void app.register(zitauth, { ...options(), errorHandler: false });
    app.get('/health', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  it('starts with an undefined hook declared where the plugin had loaded, which zitauth cannot have caused', async () => {
    const app = newApp();
    await app.register(zitauth, options());
    // What plain JavaScript can pass (the types refuse an undefined hook).
    const maybe = undefined as unknown as typeof app.authenticate;
    app.get('/a', { onRequest: maybe }, handler);
    await app.register(async (api) => {
      api.get('/b', { preHandler: maybe }, handler);
    });
    await expect(app.ready()).resolves.toBe(app);
  });

  it('fails start-up for a plugin that passes on an optional hook as undefined, and starts with []', async () => {
    // The shape of a proxy plugin's routes: `preHandler: opts.preHandler`.
    const proxy = fp<{ preHandler?: typeof handler | never[] }>(async (scope, opts) => {
      scope.route({ method: 'GET', url: '/legacy/*', preHandler: opts.preHandler!, handler });
    });
    const undefinedHook = newApp();
    await undefinedHook.register(proxy, {});
    await undefinedHook.register(zitauth, options());
    await expect(undefinedHook.ready()).rejects.toThrow(
      /GET \/legacy\/\* \(preHandler\).*gives it \[\]/,
    );
    const noHooks = newApp();
    await noHooks.register(proxy, { preHandler: [] });
    await noHooks.register(zitauth, options());
    await expect(noHooks.ready()).resolves.toBe(noHooks);
  });

  it('starts when a later onRoute hook sets the hook that was undefined', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    app.addHook('onRoute', (route) => {
      if ((route.config as { signedIn?: boolean } | undefined)?.signedIn)
        route.onRequest = authenticate;
    });
    app.get('/me', { onRequest: app.authenticate, config: { signedIn: true } }, handler);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/me`)).status).toBe(401);
  });

  it('leaves an app without the plugin alone', async () => {
    const app = newApp();
    app.get('/a', { onRequest: undefined as unknown as typeof app.authenticate }, handler);
    await expect(app.ready()).resolves.toBe(app);
  });

  it('lets each of two plugins in sibling scopes cover its own routes', async () => {
    const app = newApp();
    for (const prefix of ['/a', '/b']) {
      void app.register(
        async (scope) => {
          void scope.register(zitauth, options());
          void scope.register(async (inner) => {
            inner.get('/me', { onRequest: inner.authenticate }, handler);
          });
        },
        { prefix },
      );
    }
    await expect(app.ready()).resolves.toBe(app);
  });
});

describe('routes given an imported hook that no plugin reaches', () => {
  it('fails start-up when the plugin sits in a sibling scope; nothing listens', async () => {
    const app = newApp();
    await app.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    await app.register(
      async (api) => {
        api.get('/me', { onRequest: authenticate }, handler);
      },
      { prefix: '/api' },
    );
    const failure = app.listen({ port: 0, host: '127.0.0.1' });
    await expect(failure).rejects.toThrow(ZitauthConfigError);
    await expect(failure).rejects.toThrow(
      /^zitauth: GET \/api\/me \(authenticate\), HEAD \/api\/me \(authenticate\) use the imported hook, but no zitauth plugin reaches their scopes, so they would answer 500 to every request.*a plugin registered in a sibling scope does not reach it/,
    );
    expect(app.server.listening).toBe(false);
  });

  it('fails start-up for a route of the parent scope when the plugin sits in a child', async () => {
    const app = newApp();
    app.post('/feed', { preHandler: [authenticateOptional] }, handler);
    await app.register(async (child) => {
      await child.register(zitauth, options());
    });
    await expect(app.ready()).rejects.toThrow(
      /^zitauth: POST \/feed \(authenticateOptional\) uses the imported hook, but no zitauth plugin reaches its scope, so it would answer 500/,
    );
  });

  it('starts when the plugin loads in the route’s scope after the route, and checks callers', async () => {
    const app = newApp();
    app.get('/me', { onRequest: authenticate }, handler);
    await app.register(zitauth, options());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/me`)).status).toBe(401);
  });
});
