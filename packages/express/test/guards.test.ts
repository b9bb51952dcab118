// The Express guards over HTTP: role matching, organisation sources, scopes and custom
// checks, 401 before 403, and configuration mistakes thrown where a guard is built.
import express, { type RequestHandler } from 'express';
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
  guard: RequestHandler,
  roles: string[] | Record<string, Record<string, string>>,
  { path = '/', headers = {} }: { path?: string; headers?: Record<string, string> } = {},
): Promise<number> {
  const app = express();
  app.get(['/', '/orgs/:orgId'], authenticate, guard, (_req, res) => void res.json({ ok: true }));
  app.use(errorHandler());
  const token = await idp.mintAccessToken({ roles, scope: 'openid quotes:read' });
  const res = await request(app).get(path).set(headers).set('Authorization', `Bearer ${token}`);
  return res.status;
}

describe('requireRoles', () => {
  it('needs every role by default and one with match: any', async () => {
    expect(await statusWith(requireRoles(['admin', 'editor']), ['admin'])).toBe(403);
    expect(await statusWith(requireRoles(['admin', 'editor']), ['admin', 'editor'])).toBe(200);
    expect(await statusWith(requireRoles(['admin', 'editor'], { match: 'any' }), ['editor'])).toBe(
      200,
    );
  });

  it('reads the organisation from a function', async () => {
    const org = idp.defaultOrg.id;
    const options: RequireRolesOptions = { org: (req) => req.query['org'] as string | undefined };
    expect(
      await statusWith(requireRoles('admin', options), ['admin'], { path: `/?org=${org}` }),
    ).toBe(200);
    expect(
      await statusWith(requireRoles('admin', options), ['admin'], { path: '/?org=other' }),
    ).toBe(403);
  });

  it('refuses an empty organisation value with 403', async () => {
    const guard = requireRoles('admin', { org: { header: 'X-Org' } });
    expect(await statusWith(guard, ['admin'], { headers: { 'X-Org': '' } })).toBe(403);
  });

  it('reads a route parameter', async () => {
    const guard = requireRoles('admin', { org: { param: 'orgId' } });
    expect(await statusWith(guard, ['admin'], { path: `/orgs/${idp.defaultOrg.id}` })).toBe(200);
    expect(await statusWith(guard, ['admin'], { path: '/orgs/123' })).toBe(403);
  });

  it('answers 500, naming the fix to the operator, when auth() did not run', async () => {
    const logged: string[] = [];
    const app = express()
      .get('/', requireRoles('admin'))
      .use(errorHandler({ log: (message) => void logged.push(message) }));
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    const res = await request(app).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'Access to this resource is not set up correctly on the server',
    });
    expect(logged).toEqual([expect.stringContaining('auth() / authenticate must run before')]);
  });

  it('answers 500 to the factory given uncalled, naming the missing call to the operator', async () => {
    const logged: string[] = [];
    const uncalled = requireScopes as unknown as RequestHandler;
    const app = express()
      .get('/', authenticate, uncalled, (_req, res) => void res.send('open'))
      .use(errorHandler({ log: (message) => void logged.push(message) }));
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    const res = await request(app).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('open');
    expect(logged).toEqual([
      expect.stringContaining(
        "requireScopes was used as a middleware itself, so the framework called it with a request, and it answers 500. It makes the middleware: call it and use what it returns, e.g. requireScopes('quotes:read').",
      ),
    ]);
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
  it('allows a granted scope and names a missing one in the challenge', async () => {
    expect(await statusWith(requireScopes('quotes:read'), [])).toBe(200);
    expect(await statusWith(requireScopes(['quotes:read', 'x'], { match: 'any' }), [])).toBe(200);
    const app = express().get('/', authenticate, requireScopes('quotes:write')).use(errorHandler());
    const token = await idp.mintAccessToken({ scope: 'openid' });
    const res = await request(app).get('/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('scope="quotes:write"');
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

  it('treats a truthy non-boolean as a refusal', async () => {
    const sloppy = (() => 'yes') as unknown as () => boolean;
    expect(await statusWith(requireCheck(sloppy), [])).toBe(403);
  });

  it("passes a throwing predicate's error to Express", async () => {
    const guard = requireCheck(() => {
      throw new Error('database down');
    });
    expect(await statusWith(guard, [])).toBe(500);
  });

  it('throws ZitauthConfigError for a non-function', () => {
    expect(() => requireCheck('admin' as unknown as () => boolean)).toThrow(ZitauthConfigError);
  });
});
