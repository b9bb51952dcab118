// The Fastify guards as preHandler hooks: role matching, organisation sources, scopes
// and custom checks, 401 before 403, and configuration mistakes thrown at creation.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { zitauth, ZitauthConfigError, type ZitauthHook } from '../src/index.js';

let idp: TestIdp;
let app: FastifyInstance;

beforeAll(async () => {
  // The guards' mechanics need scopes in the JWT, as other providers send them; ZITADEL's
  // JWTs carry none (see the conformance table and the testing IdP's fidelity table).
  idp = await startTestIdp({ jwtScopeClaim: true });
  app = Fastify();
  await app.register(zitauth, {
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    realm: 'quotes',
  });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

let routes = 0;

/** Status of GET `path` on a fresh route with `authenticate` then `guard`, for a token with `roles`. */
async function statusWith(
  guard: ZitauthHook,
  roles: string[],
  { query = '', headers = {} }: { query?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  // A fresh app per call: routes cannot be added to an app that has answered a request.
  const scope = Fastify();
  await scope.register(zitauth, { issuer: idp.issuer, projectId: idp.defaultProject.id });
  const path = `/r${(routes += 1)}/:orgId`;
  scope.get(path, { onRequest: scope.authenticate, preHandler: guard }, async () => 'ok');
  const token = await idp.mintAccessToken({ roles, scope: 'openid quotes:read' });
  const url = `${path.replace(':orgId', idp.defaultOrg.id)}${query}`;
  const res = await scope.inject({
    url,
    headers: { ...headers, authorization: `Bearer ${token}` },
  });
  await scope.close();
  return res.statusCode;
}

describe('app.requireRoles', () => {
  it('needs every role by default and one with match: any', async () => {
    expect(await statusWith(app.requireRoles(['admin', 'editor']), ['admin'])).toBe(403);
    expect(await statusWith(app.requireRoles(['admin', 'editor']), ['admin', 'editor'])).toBe(200);
    expect(
      await statusWith(app.requireRoles(['admin', 'editor'], { match: 'any' }), ['editor']),
    ).toBe(200);
  });

  it('reads the organisation from a route parameter, a header or a function', async () => {
    expect(
      await statusWith(app.requireRoles('admin', { org: { param: 'orgId' } }), ['admin']),
    ).toBe(200);
    expect(
      await statusWith(app.requireRoles('admin', { org: { param: 'other' } }), ['admin']),
    ).toBe(403);
    const header = app.requireRoles('admin', { org: { header: 'X-Org' } });
    expect(await statusWith(header, ['admin'], { headers: { 'x-org': idp.defaultOrg.id } })).toBe(
      200,
    );
    expect(await statusWith(header, ['admin'], { headers: { 'x-org': '' } })).toBe(403);
    const fromQuery = app.requireRoles('admin', {
      org: (request) => (request.query as { org?: string }).org,
    });
    expect(await statusWith(fromQuery, ['admin'], { query: `?org=${idp.defaultOrg.id}` })).toBe(
      200,
    );
    expect(await statusWith(fromQuery, ['admin'], { query: '?org=other' })).toBe(403);
  });

  it('answers 401 with the plugin realm when optional auth saw no token', async () => {
    const hooks = { onRequest: app.authenticateOptional, preHandler: app.requireRoles('admin') };
    app.get('/guarded', hooks, async () => 'ok');
    const res = await app.inject({ url: '/guarded' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });

  it('answers 500 when no authenticate hook ran before the guard', async () => {
    const app = Fastify();
    await app.register(zitauth, { issuer: idp.issuer, projectId: idp.defaultProject.id });
    app.get('/guarded', { preHandler: app.requireRoles('admin') }, async () => 'ok');
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    const res = await app.inject({
      url: '/guarded',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toEqual({
      error: 'server_error',
      error_description: 'Access to this resource is not set up correctly on the server',
    });
    await app.close();
  });

  it('throws ZitauthConfigError at creation for bad arguments', () => {
    expect(() => app.requireRoles([])).toThrow(ZitauthConfigError);
    expect(() => app.requireRoles('admin', { org: {} as { param: string } })).toThrow(
      ZitauthConfigError,
    );
    expect(() => app.requireScopes('')).toThrow(ZitauthConfigError);
    expect(() => app.requireCheck('x' as unknown as () => boolean)).toThrow(ZitauthConfigError);
  });
});

describe('app.requireScopes and app.requireCheck', () => {
  it('allow a granted scope and refuse a missing one', async () => {
    expect(await statusWith(app.requireScopes('quotes:read'), [])).toBe(200);
    expect(await statusWith(app.requireScopes(['quotes:read', 'x'], { match: 'any' }), [])).toBe(
      200,
    );
    expect(await statusWith(app.requireScopes('quotes:write'), [])).toBe(403);
  });

  it('allow when the predicate returns true, sync or async', async () => {
    expect(
      await statusWith(
        app.requireCheck((a) => a.subject !== ''),
        [],
      ),
    ).toBe(200);
    expect(
      await statusWith(
        app.requireCheck(async () => false),
        [],
      ),
    ).toBe(403);
    const failing = app.requireCheck(() => {
      throw new Error('database down');
    });
    expect(await statusWith(failing, [])).toBe(500);
  });
});

describe('the hooks, called by Fastify or by your own code', () => {
  it('continues synchronously when memory has the answer and Fastify passes done', async () => {
    const scope = Fastify();
    // No start-up check, so the first request finds no keys in memory and must wait.
    await scope.register(zitauth, {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      checkOnReady: false,
    });
    const order: string[] = [];
    scope.get(
      '/me',
      {
        onRequest(request, reply, done) {
          // The first request fills the cache; a later one must be answered before the call returns.
          scope.authenticate(request, reply, (error) => {
            order.push(error === undefined ? 'done' : `error ${String(error)}`);
            done(error);
          });
          order.push('returned');
        },
      },
      async (request) => request.auth?.subject,
    );
    const token = await idp.mintAccessToken();
    const headers = { authorization: `Bearer ${token}` };
    expect((await scope.inject({ url: '/me', headers })).statusCode).toBe(200);
    expect(order).toEqual(['returned', 'done']);
    order.length = 0;
    const cached = await scope.inject({ url: '/me', headers });
    expect(cached.statusCode).toBe(200);
    expect(order).toEqual(['done', 'returned']);
    order.length = 0;
    // A first-seen JWT whose key is in memory needs no I/O either.
    const fresh = { authorization: `Bearer ${await idp.mintAccessToken()}` };
    expect((await scope.inject({ url: '/me', headers: fresh })).statusCode).toBe(200);
    expect(order).toEqual(['done', 'returned']);
    order.length = 0;
    const refused = await scope.inject({ url: '/me' });
    expect(refused.statusCode).toBe(401);
    expect(order).toHaveLength(2);
    expect(order[0]).toMatch(/^error /);
    await scope.close();
  });

  it('returns a promise when awaited in a hook of yours, and rejects on refusal', async () => {
    const scope = Fastify();
    await scope.register(zitauth, { issuer: idp.issuer, projectId: idp.defaultProject.id });
    const seen: string[] = [];
    scope.get(
      '/me',
      {
        async onRequest(request, reply) {
          try {
            await scope.authenticate(request, reply);
            seen.push(`ok ${request.auth?.subject}`);
          } catch (error) {
            seen.push(`refused ${(error as { status?: number }).status}`);
            throw error;
          }
        },
        preHandler: scope.requireRoles('reader'),
      },
      async (request) => request.auth?.subject,
    );
    const reader = await idp.mintAccessToken({ roles: ['reader'] });
    const other = await idp.mintAccessToken({ roles: [] });
    const ok = await scope.inject({ url: '/me', headers: { authorization: `Bearer ${reader}` } });
    expect(ok.statusCode).toBe(200);
    expect(
      (await scope.inject({ url: '/me', headers: { authorization: `Bearer ${other}` } }))
        .statusCode,
    ).toBe(403);
    expect((await scope.inject({ url: '/me' })).statusCode).toBe(401);
    expect(seen).toEqual([`ok ${ok.body}`, expect.stringMatching(/^ok /), 'refused 401']);
    const guard = scope.requireRoles('reader');
    const request = { auth: null } as never;
    await expect(guard(request, {} as never)).rejects.toMatchObject({ status: 500 });
    await scope.close();
  });
});
