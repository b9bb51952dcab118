// The Fastify plugin against the testing IdP: decorations, options, shared verifiers,
// closing with the app, the protect plugin and real HTTP with two Authorization headers.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import {
  authenticate,
  authenticateOptional,
  createVerifier,
  protect,
  zitauth,
  ZitauthConfigError,
  type ZitauthOptions,
} from '../src/index.js';
import { useHarness } from './harness.js';

const harness = useHarness();
const { newApp, newUnseenApp, options, bearer } = harness;

/** An app with the plugin and a `/me` route behind `app.authenticate`. */
async function build(options: Partial<ZitauthOptions> = {}): Promise<FastifyInstance> {
  const app = newApp();
  await app.register(zitauth, { ...harness.options(), ...options } as ZitauthOptions);
  app.get('/me', { onRequest: app.authenticate }, async (req) => ({
    subject: req.auth?.subject ?? null,
  }));
  app.get('/public', async (req) => ({ auth: req.auth }));
  return app;
}

describe('zitauth plugin', () => {
  it('sets request.auth in app.authenticate and leaves it null elsewhere', async () => {
    const app = await build();
    const me = await app.inject({ url: '/me', headers: await bearer() });
    expect(me.json()).toEqual({ subject: 'user-1' });
    expect((await app.inject({ url: '/public', headers: await bearer() })).json()).toEqual({
      auth: null,
    });
  });

  it('makes app.authenticate optional with authRequired: false', async () => {
    const app = await build({ authRequired: false });
    expect((await app.inject({ url: '/me' })).json()).toEqual({ subject: null });
    const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer x.y.z' } });
    expect(bad.statusCode).toBe(401);
  });

  it('fails registration with ZitauthConfigError for bad options', async () => {
    await expect(build({ issuer: 'not a url' })).rejects.toThrow(ZitauthConfigError);
    const typo = { authRequired: 'no' } as unknown as Partial<ZitauthOptions>;
    await expect(build(typo)).rejects.toThrow(/authRequired/);
    const render = { errorHandler: 'no' } as unknown as Partial<ZitauthOptions>;
    await expect(build(render)).rejects.toThrow(/errorHandler/);
  });

  it('fails registration for unknown option keys, with the closest known one', async () => {
    const typo = { authRequierd: false } as unknown as Partial<ZitauthOptions>;
    await expect(build(typo)).rejects.toThrow(
      'zitauth: unknown option "authRequierd" in the plugin options; did you mean "authRequired"?',
    );
    const render = { errorHandlr: false } as unknown as Partial<ZitauthOptions>;
    await expect(build(render)).rejects.toThrow(/did you mean "errorHandler"\?/);
    const nested = { jwks: { maxStale: 1 } } as unknown as Partial<ZitauthOptions>;
    await expect(build(nested)).rejects.toThrow(/in jwks; did you mean "maxStaleMs"\?/);
  });

  it('accepts errorHandler: false without handing it to the verifier', async () => {
    const app = await build({ errorHandler: false });
    expect((await app.inject({ url: '/me' })).statusCode).toBe(401);
  });

  it('takes a shared verifier, as is or as { verifier }, and leaves it open on close', async () => {
    const verifier = createVerifier(options());
    try {
      for (const shared of [verifier, { verifier }]) {
        const app = newApp();
        await app.register(zitauth, shared);
        app.get('/me', { onRequest: app.authenticate }, async (req) => req.auth?.subject);
        expect((await app.inject({ url: '/me', headers: await bearer() })).body).toBe('user-1');
        await app.close();
      }
      await expect(verifier.verify(await harness.idp.mintAccessToken())).resolves.toBeTruthy();
    } finally {
      verifier.close();
    }
  });

  it('closes the verifier it built on app.close(), aborting IdP calls in flight', async () => {
    let aborted = false;
    const hanging = (_input: unknown, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          aborted = true;
          reject(init.signal?.reason as Error);
        });
      });
    const app = await build({ fetch: hanging, checkOnReady: false });
    const pending = app.inject({ url: '/me', headers: await bearer() });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await app.close();
    expect((await pending).statusCode).toBe(503);
    expect(aborted).toBe(true);
  });

  it('closes its verifier before the server drains, so a hanging IdP call holds no request', async () => {
    // The key set hangs and the IdP call's own time limit is far away: only closing the
    // verifier at preClose ends the request; with onClose, app.close() would wait for it.
    harness.idp.faults.set('keys', { hang: true });
    // No start-up check: it would wait for the hanging key set itself.
    const app = await build({ timeoutMs: 600_000, checkOnReady: false });
    const events: string[] = [];
    app.addHook(
      'onResponse',
      async (_request, reply) => void events.push(`answered ${reply.statusCode}`),
    );
    app.addHook('onClose', async () => void events.push('onClose'));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const { authorization } = await bearer();
    const before = harness.idp.calls('keys');
    const answered = fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization } });
    // The request is in flight once the IdP holds its key set call.
    await vi.waitFor(() => expect(harness.idp.calls('keys')).toBeGreaterThan(before));
    try {
      await app.close();
      events.push('closed');
      expect((await answered).status).toBe(503);
      expect(events).toEqual(['answered 503', 'onClose', 'closed']);
    } finally {
      harness.idp.faults.clear();
    }
  });

  it('sees a second Authorization header over real HTTP', async () => {
    const app = await build();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const { authorization } = await bearer();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/me' });
      req.setHeader('authorization', [authorization, authorization]); // two header lines
      req.on('response', (res) => resolve(res.resume().statusCode)).on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
  });

  it('reads ?access_token= only when tokenTransport.query is on', async () => {
    const token = await harness.idp.mintAccessToken({ subject: 'user-1' });
    const on = await build({ tokenTransport: { query: true } });
    expect((await on.inject({ url: `/me?access_token=${token}` })).json()).toEqual({
      subject: 'user-1',
    });
    const off = await build();
    expect((await off.inject({ url: `/me?access_token=${token}` })).statusCode).toBe(401);
  });

  it('reads a form body access_token only when tokenTransport.body is on, never JSON', async () => {
    const token = await harness.idp.mintAccessToken({ subject: 'user-1' });
    const app = await build({ tokenTransport: { body: true } });
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, text, done) => done(null, Object.fromEntries(new URLSearchParams(text as string))),
    );
    // Bodies are parsed after onRequest, so body transport needs a preHandler hook.
    app.post('/body', { preHandler: app.authenticate }, async (req) => req.auth?.subject);
    const form = await app.inject({
      method: 'POST',
      url: '/body',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `access_token=${token}`,
    });
    expect(form.body).toBe('user-1');
    const json = await app.inject({
      method: 'POST',
      url: '/body',
      payload: { access_token: token },
    });
    expect(json.statusCode).toBe(401);
    expect(json.headers['www-authenticate']).toBe('Bearer realm="api"');
  });
});

describe('protect plugin', () => {
  it('protects every route of its scope and no other', async () => {
    const app = await build();
    await app.register(async (api) => {
      await api.register(protect);
      api.get('/api/me', async (req) => req.auth?.subject);
    });
    expect((await app.inject({ url: '/api/me' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/me', headers: await bearer() })).body).toBe('user-1');
    expect((await app.inject({ url: '/public' })).statusCode).toBe(200);
  });

  it('lets requests without a token through with authRequired: false', async () => {
    const app = await build();
    await app.register(async (api) => {
      await api.register(protect, { authRequired: false });
      api.get('/api/who', async (req) => ({ auth: req.auth }));
    });
    expect((await app.inject({ url: '/api/who' })).json()).toEqual({ auth: null });
  });

  it('refuses to register without the zitauth plugin', async () => {
    const app = newApp();
    await expect(app.register(protect)).rejects.toThrow(/register the zitauth plugin/);
  });

  it('refuses unknown option keys', async () => {
    const app = await build();
    await expect(
      app.register(async (api) => {
        await api.register(protect, { authRequiered: false } as never);
      }),
    ).rejects.toThrow(
      /unknown option "authRequiered" in protect options; did you mean "authRequired"\?/,
    );
  });
});

describe('misuse fails closed', () => {
  const misuse = {
    error: 'server_error',
    error_description: 'Access to this resource is not set up correctly on the server',
  };

  it('protects a route declared before an unawaited register with the exported hooks', async () => {
    const app = newApp();
    void app.register(zitauth, options());
    app.get('/me', { onRequest: authenticate }, async (req) => ({ subject: req.auth?.subject }));
    app.get('/who', { onRequest: authenticateOptional }, async (req) => ({ auth: req.auth }));
    expect((await app.inject({ url: '/me' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/me', headers: await bearer() })).json()).toEqual({
      subject: 'user-1',
    });
    expect((await app.inject({ url: '/who' })).json()).toEqual({ auth: null });
  });

  it('answers 500, never 200, when the plugin sits in a sibling scope of an app created before the import', async () => {
    // An app the package saw created fails start-up instead (hook-check.test.ts).
    const lines: string[] = [];
    const app = newUnseenApp({
      logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } },
    });
    await app.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    await app.register(async (api) => {
      api.get('/me', { onRequest: authenticate }, async () => 'open');
    });
    const res = await app.inject({ url: '/me', headers: await bearer() });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('open');
    expect((await app.inject({ url: '/me' })).statusCode).toBe(500);
    // Fastify's default handler logs each 500 at error level; the fault goes out once at warn.
    const warnings = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40)
      .map((line) => line.msg);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('whose scope has no zitauth plugin');
    expect(warnings[0]).toContain('await app.register(zitauth, …) in this scope or a parent one');
  });

  it('answers 500 to a guard factory given uncalled, naming the missing call at warn', async () => {
    const lines: string[] = [];
    const app = newApp({
      logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } },
    });
    await app.register(zitauth, options());
    const uncalled = app.requireRoles as unknown as typeof app.authenticate;
    app.get('/x', { onRequest: app.authenticate, preHandler: uncalled }, async () => 'open');
    const res = await app.inject({ url: '/x', headers: await bearer() });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual(misuse);
    const warnings = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level === 40)
      .map((line) => line.msg);
    expect(warnings).toEqual([
      expect.stringContaining('requireRoles was used as a middleware itself'),
    ]);
  });

  it('answers 500 to a scope hook of the imported authenticate that no plugin reaches', async () => {
    const app = newApp();
    await app.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    await app.register(async (api) => {
      api.addHook('onRequest', authenticate);
      api.get('/me', async () => 'open');
    });
    const res = await app.inject({ url: '/me', headers: await bearer() });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('open');
  });

  it('renders that 500 with the generic body where the plugin renders errors', async () => {
    const app = await build();
    const hooks = { onRequest: [app.requireRoles('admin'), authenticate] };
    app.get('/guard-first', hooks, async () => 'open');
    const res = await app.inject({ url: '/guard-first', headers: await bearer() });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual(misuse);
  });

  it('fails start-up when a guard of a sibling scope’s plugin is used', async () => {
    const app = newApp();
    await app.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    void app.register(async (api) => {
      api.get('/admin', { preHandler: api.requireRoles('admin') }, async () => 'open');
    });
    await expect(app.ready()).rejects.toThrow(TypeError);
  });

  it('fails start-up when protect is registered before the plugin or beside it', async () => {
    const before = newApp();
    void before.register(protect);
    void before.register(zitauth, options());
    await expect(before.ready()).rejects.toThrow(/register the zitauth plugin before protect/);

    const sibling = newApp();
    void sibling.register(async (auth) => {
      await auth.register(zitauth, options());
    });
    void sibling.register(async (api) => {
      await api.register(protect);
      api.get('/me', async () => 'open');
    });
    await expect(sibling.ready()).rejects.toThrow(/register the zitauth plugin before protect/);
  });
});
