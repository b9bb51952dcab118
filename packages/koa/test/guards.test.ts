// The Koa guards per route with @koa/router: role matching, organisation sources, scopes
// and custom checks, 401 before 403, and configuration mistakes thrown at creation.
import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  auth,
  errorHandler,
  requireCheck,
  requireRoles,
  requireScopes,
  ZitauthConfigError,
  type AuthMiddleware,
  type AuthState,
  type RequireRolesOptions,
} from '../src/index.js';

let idp: TestIdp;
let authenticate: AuthMiddleware;

beforeAll(async () => {
  // The guards' mechanics need scopes in the JWT, as other providers send them; ZITADEL's
  // JWTs carry none (see the conformance table and the testing IdP's fidelity table).
  idp = await startTestIdp({ jwtScopeClaim: true });
  authenticate = auth({ issuer: idp.issuer, projectId: idp.defaultProject.id });
});
afterAll(async () => {
  authenticate.verifier.close();
  await idp.close();
});

/** Status of GET `path` on an app with `auth()` then `guard`, for a token with `roles`. */
async function statusWith(
  guard: Koa.Middleware<AuthState>,
  roles: string[],
  { path = '/', headers = {} }: { path?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  const router = new Router<AuthState>();
  router.get(['/', '/orgs/:orgId'], authenticate, guard, (ctx) => {
    ctx.body = { ok: true };
  });
  const app = new Koa().use(errorHandler()).use(router.routes());
  app.silent = true; // a throwing predicate's 500 is expected; keep stderr clean
  const token = await idp.mintAccessToken({ roles, scope: 'openid quotes:read' });
  const res = await request(app.callback())
    .get(path)
    .set(headers)
    .set('Authorization', `Bearer ${token}`);
  return res.status;
}

describe('requireRoles', () => {
  it('needs every role by default and one with match: any', async () => {
    expect(await statusWith(requireRoles(['admin', 'editor']), ['admin'])).toBe(403);
    expect(await statusWith(requireRoles(['admin', 'editor']), ['admin', 'editor'])).toBe(200);
    const any = requireRoles(['admin', 'editor'], { match: 'any' });
    expect(await statusWith(any, ['editor'])).toBe(200);
  });

  it('reads the organisation from a function', async () => {
    const options: RequireRolesOptions = { org: (ctx) => ctx.query['org'] as string | undefined };
    const guard = requireRoles('admin', options);
    expect(await statusWith(guard, ['admin'], { path: `/?org=${idp.defaultOrg.id}` })).toBe(200);
    expect(await statusWith(guard, ['admin'], { path: '/?org=other' })).toBe(403);
  });

  it('reads a route parameter set by @koa/router', async () => {
    const guard = requireRoles('admin', { org: { param: 'orgId' } });
    expect(await statusWith(guard, ['admin'], { path: `/orgs/${idp.defaultOrg.id}` })).toBe(200);
    expect(await statusWith(guard, ['admin'], { path: '/orgs/123' })).toBe(403);
    expect(await statusWith(guard, ['admin'])).toBe(403);
  });

  it('refuses an empty organisation header with 403', async () => {
    const guard = requireRoles('admin', { org: { header: 'X-Org' } });
    expect(await statusWith(guard, ['admin'], { headers: { 'X-Org': '' } })).toBe(403);
  });

  it('answers 500, naming the fix to the operator, when auth() did not run', async () => {
    const app = new Koa().use(errorHandler()).use(requireRoles('admin'));
    const emitted: unknown[] = [];
    app.on('error', (error: unknown) => void emitted.push(error));
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    const res = await request(app.callback()).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'Access to this resource is not set up correctly on the server',
    });
    expect(emitted).toContainEqual(
      expect.objectContaining({
        kind: 'misuse',
        message: expect.stringContaining('auth() / authenticate must run before'),
      }),
    );
  });

  it('answers 500 to the factory given uncalled, naming the missing call to the operator', async () => {
    const uncalled = requireRoles as unknown as Koa.Middleware<AuthState>;
    const router = new Router<AuthState>().get('/', authenticate, uncalled, (ctx) => {
      ctx.body = 'open';
    });
    const app = new Koa().use(errorHandler()).use(router.routes());
    const emitted: unknown[] = [];
    app.on('error', (error: unknown) => void emitted.push(error));
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    const res = await request(app.callback()).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('open');
    expect(emitted).toContainEqual(
      expect.objectContaining({
        kind: 'misuse',
        message: expect.stringContaining(
          "requireRoles was used as a middleware itself, so the framework called it with a request, and it answers 500. It makes the middleware: call it and use what it returns, e.g. requireRoles('admin').",
        ),
      }),
    );
  });

  it('throws ZitauthConfigError at creation for bad arguments', () => {
    expect(() => requireRoles([])).toThrow(ZitauthConfigError);
    expect(() => requireRoles('admin', { org: {} as { param: string } })).toThrow(
      ZitauthConfigError,
    );
    expect(() => requireScopes('')).toThrow(ZitauthConfigError);
  });
});

describe('requireScopes', () => {
  it('allows a granted scope and refuses a missing one', async () => {
    expect(await statusWith(requireScopes('quotes:read'), [])).toBe(200);
    expect(await statusWith(requireScopes(['quotes:read', 'x'], { match: 'any' }), [])).toBe(200);
    expect(await statusWith(requireScopes('quotes:write'), [])).toBe(403);
  });
});

describe('requireCheck', () => {
  it('allows when the predicate returns true, sync or async', async () => {
    expect(
      await statusWith(
        requireCheck((a) => a.subject !== ''),
        [],
      ),
    ).toBe(200);
    expect(
      await statusWith(
        requireCheck(async () => false),
        [],
      ),
    ).toBe(403);
    expect(
      await statusWith(
        requireCheck(async () => true),
        [],
      ),
    ).toBe(200);
  });

  it("lets a throwing predicate's error reach Koa", async () => {
    const guard = requireCheck(() => {
      throw new Error('database down');
    });
    expect(await statusWith(guard, [])).toBe(500);
  });

  it('throws ZitauthConfigError for a non-function', () => {
    expect(() => requireCheck('admin' as unknown as () => boolean)).toThrow(ZitauthConfigError);
  });
});
