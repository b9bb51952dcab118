/**
 * The same small API built with each adapter, so one table of cases can be run through
 * all three. Each harness sends a request and returns only what the cases compare:
 * status, the auth-related headers, content type and the raw body text.
 */
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import type { AuthContext, Verifier } from '@zitauth/core';
import * as zexpress from '@zitauth/express';
import * as zkoa from '@zitauth/koa';
import { protect, zitauth } from '@zitauth/fastify';

/** A request of the table: a path and headers (an array sends the header several times). */
export interface TestRequest {
  path: string;
  headers?: Record<string, string | string[]>;
  /** A POST with this body: a form (`application/x-www-form-urlencoded`) or JSON. */
  body?: { form: Record<string, string> } | { json: unknown };
}

/** The body of a request as sent: its content type and text. */
function encodeBody(body: NonNullable<TestRequest['body']>): { type: string; text: string } {
  if ('form' in body) {
    return {
      type: 'application/x-www-form-urlencoded',
      text: new URLSearchParams(body.form).toString(),
    };
  }
  return { type: 'application/json', text: JSON.stringify(body.json) };
}

/** A Koa body parser for forms and JSON, as koa-bodyparser leaves it on `ctx.request.body`. */
const koaBody: Koa.Middleware = async (ctx, next) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const parsed = ctx.is('urlencoded')
    ? Object.fromEntries(new URLSearchParams(text))
    : ctx.is('json')
      ? (JSON.parse(text) as unknown)
      : undefined;
  (ctx.request as { body?: unknown }).body = parsed;
  await next();
};

/** The parts of a response the adapters must agree on, byte for byte. */
export interface TestResponse {
  status: number;
  wwwAuthenticate: string | undefined;
  retryAfter: string | undefined;
  contentType: string | undefined;
  cacheControl: string | undefined;
  body: string;
}

/** One adapter's app, ready to answer table requests. */
export interface Harness {
  readonly name: 'express' | 'koa' | 'fastify';
  send(request: TestRequest): Promise<TestResponse>;
  close(): Promise<void>;
}

/** The routes' scope and the header the org-scoped route reads. */
export const SCOPE = 'quotes:read';
export const ORG_HEADER = 'x-zitadel-orgid';

/** What a protected route answers: enough of the caller to compare adapters. */
export function describeCaller(auth: AuthContext | null | undefined): unknown {
  if (auth == null) return { subject: null };
  return { subject: auth.subject, orgId: auth.orgId ?? null, tokenKind: auth.tokenKind };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function pick(status: number, headers: Record<string, unknown>, body: string): TestResponse {
  const get = (name: string): string | undefined =>
    header(headers[name] as string | string[] | undefined);
  return {
    status,
    wwwAuthenticate: get('www-authenticate'),
    retryAfter: get('retry-after'),
    contentType: get('content-type'),
    cacheControl: get('cache-control'),
    body,
  };
}

/** Sends through supertest, which speaks real HTTP to a short-lived server. */
async function viaSupertest(
  target: Parameters<typeof request>[0],
  { path, headers = {}, body }: TestRequest,
): Promise<TestResponse> {
  let test = body === undefined ? request(target).get(path) : request(target).post(path);
  // superagent sends an array as one header line per value; its types only admit it for Cookie.
  for (const [name, value] of Object.entries(headers)) test = test.set(name, value as string);
  if (body !== undefined) {
    const { type, text } = encodeBody(body);
    test = test.set('content-type', type).send(text);
  }
  const res = await test;
  return pick(res.status, res.headers as Record<string, unknown>, res.text);
}

/** Express: `auth()` per route, guards after it, `errorHandler()` last. */
export function expressHarness(
  verifier: Verifier,
  createApp: () => express.Express = express,
): Harness {
  const app = createApp();
  const required = zexpress.auth(verifier);
  const optional = zexpress.auth({ verifier, authRequired: false });
  const reply = (req: express.Request, res: express.Response): void => {
    res.json(describeCaller(req.auth));
  };
  const { requireRoles, requireScopes } = zexpress;
  if (verifier.protectedResource !== undefined) app.use(zexpress.resourceMetadata(verifier));
  app.get('/public', (_req, res) => void res.json({ public: true }));
  app.get('/me', required, reply);
  app.post('/me', express.urlencoded({ extended: false }), express.json(), required, reply);
  app.get('/optional', optional, reply);
  app.get('/optional-admin', optional, requireRoles('admin'), reply);
  app.get('/admin', required, requireRoles('admin'), reply);
  app.get(
    '/orgs/:orgId/admin',
    required,
    requireRoles('admin', { org: { param: 'orgId' } }),
    reply,
  );
  app.get('/org-admin', required, requireRoles('admin', { org: { header: ORG_HEADER } }), reply);
  app.get('/scoped', required, requireScopes(SCOPE), reply);
  // Misuse: a guard on a route auth() does not cover.
  app.get('/unauthenticated-admin', requireRoles('admin'), reply);
  // Misuse: a guard factory given to the route uncalled (plain JavaScript).
  app.get('/uncalled-guard', required, requireRoles as unknown as express.RequestHandler, reply);
  app.use(zexpress.errorHandler());
  return { name: 'express', send: (req) => viaSupertest(app, req), close: async () => {} };
}

/** Koa: `errorHandler()` first, then @koa/router routes with per-route middleware. */
export function koaHarness(verifier: Verifier, createApp: () => Koa = () => new Koa()): Harness {
  const app = createApp();
  const router = new Router<zkoa.AuthState>();
  const required = zkoa.auth(verifier);
  const optional = zkoa.auth({ verifier, authRequired: false });
  const reply: Koa.Middleware<zkoa.AuthState> = (ctx) => {
    ctx.body = describeCaller(ctx.state.auth);
  };
  const { requireRoles, requireScopes } = zkoa;
  router.get('/public', (ctx) => void (ctx.body = { public: true }));
  router.get('/me', required, reply);
  router.post('/me', koaBody, required, reply);
  router.get('/optional', optional, reply);
  router.get('/optional-admin', optional, requireRoles('admin'), reply);
  router.get('/admin', required, requireRoles('admin'), reply);
  router.get(
    '/orgs/:orgId/admin',
    required,
    requireRoles('admin', { org: { param: 'orgId' } }),
    reply,
  );
  router.get('/org-admin', required, requireRoles('admin', { org: { header: ORG_HEADER } }), reply);
  router.get('/scoped', required, requireScopes(SCOPE), reply);
  // Misuse: a guard before auth().
  router.get('/unauthenticated-admin', requireRoles('admin'), required, reply);
  // Misuse: a guard factory given to the route uncalled (plain JavaScript).
  const uncalled = requireRoles as unknown as Koa.Middleware<zkoa.AuthState>;
  router.get('/uncalled-guard', required, uncalled, reply);
  app.use(zkoa.errorHandler());
  if (verifier.protectedResource !== undefined) app.use(zkoa.resourceMetadata(verifier));
  app.use(router.routes());
  const callback = app.callback();
  return { name: 'koa', send: (req) => viaSupertest(callback, req), close: async () => {} };
}

/**
 * Fastify: routes with explicit hooks at the root, and the guarded routes in a scope
 * protected at once by the `protect` plugin. Requests go through `app.inject()`.
 */
export async function fastifyHarness(verifier: Verifier): Promise<Harness> {
  const app = Fastify();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, text, done) => done(null, Object.fromEntries(new URLSearchParams(text as string))),
  );
  await app.register(zitauth, { verifier });
  const reply = async (req: { auth: AuthContext | null }) => describeCaller(req.auth);
  app.get('/public', async () => ({ public: true }));
  app.get('/me', { onRequest: app.authenticate }, reply);
  // Misuse: a guard in onRequest before authenticate.
  app.get(
    '/unauthenticated-admin',
    { onRequest: [app.requireRoles('admin'), app.authenticate] },
    reply,
  );
  // Misuse: a guard factory given to the route uncalled (plain JavaScript).
  const uncalled = app.requireRoles as unknown as typeof app.authenticate;
  app.get('/uncalled-guard', { onRequest: app.authenticate, preHandler: uncalled }, reply);
  // Bodies are parsed after onRequest, so a body token needs the preHandler hook.
  app.post('/me', { preHandler: app.authenticate }, reply);
  app.get('/optional', { onRequest: app.authenticateOptional }, reply);
  app.get(
    '/optional-admin',
    { onRequest: app.authenticateOptional, preHandler: app.requireRoles('admin') },
    reply,
  );
  await app.register(async (api) => {
    await api.register(protect);
    api.get('/admin', { preHandler: api.requireRoles('admin') }, reply);
    const byParam = api.requireRoles('admin', { org: { param: 'orgId' } });
    api.get('/orgs/:orgId/admin', { preHandler: byParam }, reply);
    const byHeader = api.requireRoles('admin', { org: { header: ORG_HEADER } });
    api.get('/org-admin', { preHandler: byHeader }, reply);
    api.get('/scoped', { preHandler: api.requireScopes(SCOPE) }, reply);
  });
  await app.ready();
  return {
    name: 'fastify',
    async send({ path, headers = {}, body }) {
      const encoded = body === undefined ? undefined : encodeBody(body);
      const res = await app.inject({
        method: encoded === undefined ? 'GET' : 'POST',
        url: path,
        headers: encoded === undefined ? headers : { ...headers, 'content-type': encoded.type },
        ...(encoded === undefined ? {} : { payload: encoded.text }),
      });
      return pick(res.statusCode, res.headers, res.body);
    },
    close: () => app.close(),
  };
}
