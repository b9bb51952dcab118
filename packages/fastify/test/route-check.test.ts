// Routes declared after an unawaited register, before the plugin loaded (app.authenticate
// still undefined), fail start-up; every other order of routes and plugins starts.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { describe, expect, it } from 'vitest';
import { authenticate, zitauth, ZitauthConfigError } from '../src/index.js';
import { openRoutes, parseRoutes, routeKey } from '../src/route-check.js';
import { useHarness } from './harness.js';

const { newApp, newUnseenApp, options, bearer } = useHarness();

/** GET `url` over real HTTP from a listening app: status only. */
async function statusOf(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const { port } = app.server.address() as AddressInfo;
  return (await fetch(`http://127.0.0.1:${port}${url}`, { headers })).status;
}

describe('routes declared before the plugin loaded', () => {
  it('fails start-up for app.authenticate read after an unawaited register in an app created before the import', async () => {
    // The undefined-hook check (hook-check.test.ts) sees only apps created after the
    // package was imported; this one is made unseen, so the error handler check finds it.
    const app = newUnseenApp();
    void app.register(zitauth, options());
    app.get('/x', { onRequest: app.authenticate }, async () => 'open');
    const failure = app.listen({ port: 0, host: '127.0.0.1' });
    await expect(failure).rejects.toThrow(ZitauthConfigError);
    await expect(failure).rejects.toThrow(
      /GET \/x, HEAD \/x were declared after app\.register\(zitauth, …\) without await.*Write await app\.register\(zitauth, …\) before declaring routes, or use the imported hook/,
    );
    expect(app.server.listening).toBe(false);
  });

  it('warns, as neither check can run, for an app created before the import with errorHandler: false', async () => {
    const lines: string[] = [];
    const logger = { level: 'warn', stream: { write: (line: string) => void lines.push(line) } };
    const app = newUnseenApp({ logger });
    const seen = newApp({ logger });
    for (const each of [app, seen]) {
      await each.register(zitauth, { ...options(), errorHandler: false });
      await each.ready();
    }
    const warnings = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(warnings).toEqual([
      expect.stringContaining(
        'created before @zitauth/fastify was imported, and errorHandler is false',
      ),
    ]);
  });

  it('names a public route declared in the same gap too, and no route declared elsewhere', async () => {
    const app = newApp();
    app.get('/health', async () => 'ok');
    void app.register(zitauth, options());
    app.post('/orders', async () => 'open');
    const error = await app.ready().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ZitauthConfigError);
    const message = (error as Error).message;
    expect(message).toContain('POST /orders was declared');
    expect(message).toContain('A public route declared there is refused too');
    expect(message).not.toContain('/health');
  });

  it('names the first five routes of a longer list and counts the rest', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    for (const path of ['/a', '/b', '/c', '/d']) app.get(path, async () => 'open');
    await expect(app.ready()).rejects.toThrow(
      /^zitauth: GET \/a, HEAD \/a, GET \/b, HEAD \/b, GET \/c and 3 more were declared/,
    );
  });

  it('lets a child scope registered after an unawaited register use app.authenticate', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    void app.register(
      async (api) => {
        api.get('/in', { onRequest: api.authenticate }, async (req) => req.auth?.subject);
      },
      { prefix: '/api' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await statusOf(app, '/api/in')).toBe(401);
    expect(await statusOf(app, '/api/in', await bearer())).toBe(200);
  });

  it('starts with the imported authenticate after an unawaited register', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    app.get('/me', { onRequest: authenticate }, async (req) => req.auth?.subject);
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await statusOf(app, '/me')).toBe(401);
    expect(await statusOf(app, '/me', await bearer())).toBe(200);
  });

  it('keeps a public route declared before an awaited register', async () => {
    const app = newApp();
    app.get('/health', async () => 'ok');
    await app.register(zitauth, options());
    app.get('/me', { onRequest: app.authenticate }, async () => 'me');
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await statusOf(app, '/health')).toBe(200);
    expect(await statusOf(app, '/me')).toBe(401);
  });

  it('keeps the routes of a plugin registered before zitauth, both unawaited', async () => {
    const app = newApp();
    const files = fp(async (scope) => {
      scope.get('/static/*', async () => 'file');
      scope.get('/docs', async () => 'docs');
    });
    void app.register(files);
    void app.register(zitauth, options());
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await statusOf(app, '/static/a.css')).toBe(200);
    expect(await statusOf(app, '/docs')).toBe(200);
  });

  it('starts with every route shape declared after an awaited register', async () => {
    const app = newApp();
    await app.register(zitauth, {
      ...options(),
      protectedResource: { resource: 'https://api.example.com/v1' },
    });
    const handler = async () => 'ok';
    app.get('/files/*', handler);
    app.get('/users/:id', handler);
    app.get('/users/:name/posts/:post', handler);
    app.delete('/users/:userId', handler);
    app.get('/v', { constraints: { version: '1.0.0' } }, handler);
    app.route({ method: ['PUT', 'PATCH'], url: '/multi', handler });
    app.get('/', handler);
    await app.register(
      async (api) => {
        api.get('/', handler);
        api.get('/deep/:a-:b', { onRequest: api.authenticate }, handler);
      },
      { prefix: '/api' },
    );
    await expect(app.ready()).resolves.toBe(app);
  });

  it('starts with a plugin in each of two sibling scopes', async () => {
    const app = newApp();
    for (const prefix of ['/a', '/b']) {
      await app.register(
        async (scope) => {
          await scope.register(zitauth, options());
          scope.get('/me', { onRequest: scope.authenticate }, async () => 'me');
        },
        { prefix },
      );
    }
    await expect(app.ready()).resolves.toBe(app);
  });
});

describe('reading printRoutes', () => {
  const printed = [
    '├── /health (GET, HEAD)',
    '│   • (errorHandler) "defaultErrorHandler()"',
    '├── /x (GET, HEAD)',
    '│   • (errorHandler) "bound zitauthErrorHandler()"',
    '│   /x (POST)',
    '│   • (errorHandler) "bound zitauthErrorHandler()"',
    '│   • (onRequest) ["zitauthHook()"]',
    '│   └── /y/:id (GET, HEAD)',
    '│       • (errorHandler) "bound zitauthErrorHandler()"',
    '└── /api (GET)',
    '    • (errorHandler) "bound zitauthErrorHandler()"',
    '    └── / (GET)',
    '        • (errorHandler) "bound zitauthErrorHandler()"',
    '',
  ].join('\n');

  it('reads each route with its full path, methods, error handler and hooks', () => {
    expect(parseRoutes(printed)).toEqual([
      {
        methods: ['GET', 'HEAD'],
        path: '/health',
        errorHandler: 'defaultErrorHandler()',
        onRequest: [],
      },
      {
        methods: ['GET', 'HEAD'],
        path: '/x',
        errorHandler: 'bound zitauthErrorHandler()',
        onRequest: [],
      },
      {
        methods: ['POST'],
        path: '/x',
        errorHandler: 'bound zitauthErrorHandler()',
        onRequest: ['zitauthHook()'],
      },
      {
        methods: ['GET', 'HEAD'],
        path: '/x/y/:id',
        errorHandler: 'bound zitauthErrorHandler()',
        onRequest: [],
      },
      {
        methods: ['GET'],
        path: '/api',
        errorHandler: 'bound zitauthErrorHandler()',
        onRequest: [],
      },
      {
        methods: ['GET'],
        path: '/api/',
        errorHandler: 'bound zitauthErrorHandler()',
        onRequest: [],
      },
    ]);
  });

  it('lists zitauth-handled routes neither seen nor hooked', () => {
    const seen = new Set([routeKey('GET', '/api'), routeKey('HEAD', '/x/y/:slug')]);
    expect(openRoutes(parseRoutes(printed), seen)).toEqual(['GET /x', 'HEAD /x', 'GET /x/y/:id']);
  });

  it('refuses start-up when a line naming zitauth’s handler cannot be read', () => {
    expect(() =>
      parseRoutes('└── /x [GET]\n    • (errorHandler) "bound zitauthErrorHandler()"'),
    ).toThrow(/could not read Fastify's route list/);
    expect(() =>
      parseRoutes('└── /x (GET)\n    • (errorHandler) bound zitauthErrorHandler()'),
    ).toThrow(ZitauthConfigError);
  });
});
