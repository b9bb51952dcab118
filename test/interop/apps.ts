/**
 * The protected API of the interop suite, built with each adapter from plain verifier
 * options (each adapter builds its own verifier, as an application would). `/me` needs a
 * valid token, `/admin` also the `admin` role. Express and Koa are called through
 * supertest, Fastify through `inject()`; every app is closed by its test.
 */
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import { onTestFinished } from 'vitest';
import type { AuthContext, VerifierOptions } from '@zitauth/core';
import * as zexpress from '@zitauth/express';
import * as zkoa from '@zitauth/koa';
import { zitauth } from '@zitauth/fastify';

/** What a route answers: the parts of the caller the interop cases look at. */
export interface Caller {
  subject: string;
  clientId: string | null;
  roles: string[];
  scopes: string[];
  audience: string[];
  tokenKind: 'jwt' | 'opaque';
}

/** One answer of the API: status, challenge and the parsed JSON body. */
export interface ApiResponse {
  status: number;
  wwwAuthenticate: string | undefined;
  body: unknown;
}

/** One adapter's app. */
export interface Api {
  readonly name: 'express' | 'koa' | 'fastify';
  /**
   * GETs `path` with the token as a bearer credential (none when undefined), or with
   * exactly these headers (e.g. `Authorization: DPoP …` and a `DPoP` proof). `path` is
   * `/me`, `/admin`, or the protected resource metadata when `protectedResource` is set.
   */
  get(path: string, token?: string | Readonly<Record<string, string>>): Promise<ApiResponse>;
  close(): Promise<void>;
}

export type AdapterName = Api['name'];
export const ADAPTERS: readonly AdapterName[] = ['express', 'koa', 'fastify'];

function describe(auth: AuthContext | null | undefined): Caller | null {
  if (auth == null) return null;
  return {
    subject: auth.subject,
    clientId: auth.clientId ?? null,
    roles: Object.keys(auth.roles).sort(),
    scopes: [...auth.scopes],
    audience: [...auth.audience],
    tokenKind: auth.tokenKind,
  };
}

function headers(token: string | Readonly<Record<string, string>> | undefined) {
  if (typeof token === 'object') return { ...token };
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

function parse(text: string): unknown {
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

async function viaSupertest(
  target: Parameters<typeof request>[0],
  path: string,
  token: string | Readonly<Record<string, string>> | undefined,
): Promise<ApiResponse> {
  const res = await request(target).get(path).set(headers(token));
  const challenge = res.headers['www-authenticate'] as string | undefined;
  return { status: res.status, wwwAuthenticate: challenge, body: parse(res.text) };
}

function expressApi(options: VerifierOptions): Api {
  const app = express();
  const authenticate = zexpress.auth(options);
  const reply = (req: express.Request, res: express.Response): void => {
    res.json(describe(req.auth));
  };
  if (options.protectedResource) app.use(zexpress.resourceMetadata(authenticate));
  app.get('/me', authenticate, reply);
  app.get('/admin', authenticate, zexpress.requireRoles('admin'), reply);
  app.use(zexpress.errorHandler());
  return {
    name: 'express',
    get: (path, token) => viaSupertest(app, path, token),
    close: async () => authenticate.verifier.close(),
  };
}

function koaApi(options: VerifierOptions): Api {
  const app = new Koa();
  const router = new Router<zkoa.AuthState>();
  const authenticate = zkoa.auth(options);
  const reply: Koa.Middleware<zkoa.AuthState> = (ctx) => {
    ctx.body = describe(ctx.state.auth);
  };
  router.get('/me', authenticate, reply);
  router.get('/admin', authenticate, zkoa.requireRoles('admin'), reply);
  app.use(zkoa.errorHandler());
  if (options.protectedResource) app.use(zkoa.resourceMetadata(authenticate));
  app.use(router.routes());
  const callback = app.callback();
  return {
    name: 'koa',
    get: (path, token) => viaSupertest(callback, path, token),
    close: async () => authenticate.verifier.close(),
  };
}

async function fastifyApi(options: VerifierOptions): Promise<Api> {
  const app = Fastify();
  await app.register(zitauth, options);
  const reply = async (req: { auth: AuthContext | null }) => describe(req.auth);
  app.get('/me', { onRequest: app.authenticate }, reply);
  app.get('/admin', { onRequest: app.authenticate, preHandler: app.requireRoles('admin') }, reply);
  await app.ready();
  return {
    name: 'fastify',
    async get(path, token) {
      const res = await app.inject({ method: 'GET', url: path, headers: headers(token) });
      const challenge = res.headers['www-authenticate'];
      return {
        status: res.statusCode,
        wwwAuthenticate: typeof challenge === 'string' ? challenge : undefined,
        body: parse(res.body),
      };
    },
    close: () => app.close(),
  };
}

/** Builds the API with one adapter; the caller closes it. */
export async function startApi(adapter: AdapterName, options: VerifierOptions): Promise<Api> {
  if (adapter === 'express') return expressApi(options);
  if (adapter === 'koa') return koaApi(options);
  return fastifyApi(options);
}

/** Starts an API for the running test; it is closed when the test ends. */
export async function testApi(adapter: AdapterName, options: VerifierOptions): Promise<Api> {
  const started = await startApi(adapter, options);
  onTestFinished(() => started.close());
  return started;
}

/** The `WWW-Authenticate` value of an `invalid_token` refusal. */
export function invalidToken(description: string): string {
  return `Bearer realm="api", error="invalid_token", error_description="${description}"`;
}
