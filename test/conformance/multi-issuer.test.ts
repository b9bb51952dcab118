// One API trusting two real testing IdPs at once, built with each adapter from the same
// `{ issuers: [...] }` options and spoken to over HTTP on 127.0.0.1: each issuer's callers
// pass and are named, an unknown issuer is refused with no IdP call, an issuer that is
// down costs only its own callers (503), opaque tokens follow the tenant header, and
// `requireIssuer` guards a route. The three adapters must answer with the same bytes.
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import Router from '@koa/router';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthContext, MultiIssuerOptions } from '@zitauth/core';
import * as zexpress from '@zitauth/express';
import * as zkoa from '@zitauth/koa';
import { zitauth } from '@zitauth/fastify';
import { startTestIdp, type TestIdp } from '@zitauth/testing';

const ADAPTERS = ['express', 'koa', 'fastify'] as const;
type AdapterName = (typeof ADAPTERS)[number];

interface Answer {
  status: number;
  wwwAuthenticate: string | undefined;
  retryAfter: string | undefined;
  body: unknown;
}

interface App {
  send(path: string, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

let alpha: TestIdp;
let beta: TestIdp;
const apps: App[] = [];

beforeAll(async () => {
  [alpha, beta] = await Promise.all([startTestIdp(), startTestIdp({ algorithm: 'ES256' })]);
});
afterAll(async () => {
  await Promise.all([alpha.close(), beta.close()]);
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const idp of [alpha, beta]) {
    idp.faults.clear();
    idp.resetCalls();
  }
});

/** Both IdPs, opaque tokens routed by the `x-tenant` header. */
function options(): MultiIssuerOptions {
  const tenants = new Map([
    ['alpha', alpha.issuer],
    ['beta', beta.issuer],
  ]);
  const issuers = [alpha, beta].map((idp) => {
    const { clientId, clientSecret } = idp.createApiApp({ auth: 'basic' });
    return {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { clientId, clientSecret },
    };
  });
  return {
    issuers,
    opaqueIssuer: (req) => {
      const tenant = req.headers?.['x-tenant'];
      return typeof tenant === 'string' ? tenants.get(tenant) : undefined;
    },
  };
}

const caller = (auth: AuthContext | null | undefined): unknown => ({
  subject: auth?.subject,
  issuer: auth?.issuer,
  tokenKind: auth?.tokenKind,
});

async function answer(test: request.Test, headers: Record<string, string>): Promise<Answer> {
  const res = await test.set(headers);
  return {
    status: res.status,
    wwwAuthenticate: res.headers['www-authenticate'] as string | undefined,
    retryAfter: res.headers['retry-after'] as string | undefined,
    body: JSON.parse(res.text) as unknown,
  };
}

function expressApp(): App {
  const app = express();
  const required = zexpress.auth(options());
  app.get('/me', required, (req, res) => void res.json(caller(req.auth)));
  const onlyAlpha = zexpress.requireIssuer(alpha.issuer);
  app.get('/alpha-only', required, onlyAlpha, (req, res) => void res.json(caller(req.auth)));
  app.use(zexpress.errorHandler());
  return {
    send: (path, headers = {}) => answer(request(app).get(path), headers),
    close: async () => required.verifier.close(),
  };
}

function koaApp(): App {
  const app = new Koa();
  const router = new Router<zkoa.AuthState>();
  const required = zkoa.auth(options());
  const reply: Koa.Middleware<zkoa.AuthState> = (ctx) => void (ctx.body = caller(ctx.state.auth));
  router.get('/me', required, reply);
  router.get('/alpha-only', required, zkoa.requireIssuer(alpha.issuer), reply);
  app.use(zkoa.errorHandler()).use(router.routes());
  const callback = app.callback();
  return {
    send: (path, headers = {}) => answer(request(callback).get(path), headers),
    close: async () => required.verifier.close(),
  };
}

/** Fastify listens on a real port, so it too is reached over HTTP. */
async function fastifyApp(): Promise<App> {
  const app = Fastify();
  // Requests alone are counted here; the start-up check has its own test.
  await app.register(zitauth, { ...options(), checkOnReady: false });
  const reply = async (req: { auth: AuthContext | null }) => caller(req.auth);
  app.get('/me', { onRequest: app.authenticate }, reply);
  const onlyAlpha = { onRequest: app.authenticate, preHandler: app.requireIssuer(alpha.issuer) };
  app.get('/alpha-only', onlyAlpha, reply);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    send: (path, headers = {}) => answer(request(app.server).get(path), headers),
    close: () => app.close(),
  };
}

/** A fresh app per adapter, so none answers from a cache another request filled. */
async function build(): Promise<Record<AdapterName, App>> {
  const trio = { express: expressApp(), koa: koaApp(), fastify: await fastifyApp() };
  apps.push(...Object.values(trio));
  return trio;
}

/** Sends the same request to the three adapters; they must agree byte for byte. */
async function everywhere(path: string, headers: Record<string, string>): Promise<Answer> {
  const trio = await build();
  const first = await trio.express.send(path, headers);
  for (const name of ['koa', 'fastify'] as const) {
    expect(await trio[name].send(path, headers), name).toEqual(first);
  }
  return first;
}

const bearer = (token: string, tenant?: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  ...(tenant === undefined ? {} : { 'x-tenant': tenant }),
});

const challenge = (error: string, description: string): string =>
  `Bearer realm="api", error="${error}", error_description="${description}"`;

describe('an API trusting two issuers, in every adapter', () => {
  it('accepts each issuer’s JWT and says which issuer verified the caller', async () => {
    for (const idp of [alpha, beta]) {
      const token = await idp.mintAccessToken({ subject: 'user-1' });
      expect(await everywhere('/me', bearer(token))).toEqual({
        status: 200,
        wwwAuthenticate: undefined,
        retryAfter: undefined,
        body: { subject: 'user-1', issuer: idp.issuer, tokenKind: 'jwt' },
      });
    }
  });

  it('refuses a JWT from an unknown issuer without calling either IdP', async () => {
    const token = await alpha.mintAccessToken({ claims: { iss: 'https://stranger.example' } });
    const res = await everywhere('/me', bearer(token));
    expect(res).toEqual({
      status: 401,
      wwwAuthenticate: challenge('invalid_token', 'The access token issuer is not trusted'),
      retryAfter: undefined,
      body: { error: 'invalid_token', error_description: 'The access token issuer is not trusted' },
    });
    for (const idp of [alpha, beta]) {
      expect([idp.calls('discovery'), idp.calls('keys'), idp.calls('introspect')]).toEqual([
        0, 0, 0,
      ]);
    }
  });

  it('answers 503 to the callers of an issuer that is down and 200 to the other’s', async () => {
    beta.faults.set('discovery', { status: 500 });
    beta.faults.set('keys', { status: 500 });
    const trio = await build();
    const fromBeta = await beta.mintAccessToken();
    const fromAlpha = await alpha.mintAccessToken({ subject: 'user-a' });
    for (const name of ADAPTERS) {
      expect(await trio[name].send('/me', bearer(fromBeta)), name).toEqual({
        status: 503,
        wwwAuthenticate: 'Bearer realm="api"',
        retryAfter: '5',
        body: {
          error: 'temporarily_unavailable',
          error_description: 'The token could not be checked; try again later',
        },
      });
      expect(await trio[name].send('/me', bearer(fromAlpha)), name).toMatchObject({
        status: 200,
        body: { subject: 'user-a', issuer: alpha.issuer },
      });
    }
  });

  it('introspects an opaque token only at the issuer its tenant header names', async () => {
    const token = await beta.mintAccessToken({ format: 'opaque', subject: 'user-b' });
    expect(await everywhere('/me', bearer(token, 'beta'))).toEqual({
      status: 200,
      wwwAuthenticate: undefined,
      retryAfter: undefined,
      body: { subject: 'user-b', issuer: beta.issuer, tokenKind: 'opaque' },
    });
    expect([alpha.calls('introspect'), beta.calls('introspect')]).toEqual([0, 3]);
  });

  it('refuses an opaque token whose request names no known tenant, calling no IdP', async () => {
    const token = await beta.mintAccessToken({ format: 'opaque' });
    for (const headers of [bearer(token), bearer(token, 'gamma')]) {
      expect(await everywhere('/me', headers)).toMatchObject({
        status: 401,
        wwwAuthenticate: challenge('invalid_token', 'The access token issuer is not trusted'),
      });
    }
    expect([alpha.calls('introspect'), beta.calls('introspect')]).toEqual([0, 0]);
  });

  it('lets requireIssuer keep a route to one issuer’s callers (403 for the other)', async () => {
    const fromBeta = await beta.mintAccessToken();
    expect(await everywhere('/alpha-only', bearer(fromBeta))).toEqual({
      status: 403,
      wwwAuthenticate: challenge(
        'insufficient_scope',
        'The access token does not grant the required permission',
      ),
      retryAfter: undefined,
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token does not grant the required permission',
      },
    });
    const fromAlpha = await alpha.mintAccessToken({ subject: 'user-a' });
    expect(await everywhere('/alpha-only', bearer(fromAlpha))).toMatchObject({
      status: 200,
      body: { issuer: alpha.issuer },
    });
  });
});
