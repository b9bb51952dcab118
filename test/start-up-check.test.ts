// The start-up check in each adapter's idiomatic form, over HTTP against the real testing
// IdP: Express and Koa `await verifier.ready()` before `listen`, Fastify runs it in an
// `onReady` hook so `listen()` rejects. A good set-up starts and serves; a wrong issuer
// (trailing slash, another host name), a wrong introspection secret or an unreachable IdP
// stop the start with a ZitauthConfigError that names the fix, and nothing listens.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  ZitauthConfigError,
  type VerifierOptions,
  type ZitauthVerifier,
} from '@zitauth/core';
import * as zexpress from '@zitauth/express';
import * as zkoa from '@zitauth/koa';
import { zitauth } from '@zitauth/fastify';
import { startTestIdp, type TestIdp } from '@zitauth/testing';

let idp: TestIdp;
let credentials: { clientId: string; clientSecret: string };
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
  const app = idp.createApiApp({ auth: 'basic' });
  credentials = { clientId: app.clientId, clientSecret: app.clientSecret };
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});
afterAll(async () => {
  await idp.close();
});

/** A started API: its base URL. */
type Start = (options: VerifierOptions) => Promise<string>;

/** Listens on a free loopback port and registers the server to be stopped. */
async function listen(server: Server, verifier?: ZitauthVerifier): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  stops.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    verifier?.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Express as its README starts it: build the verifier, await ready(), then listen. */
const startExpress: Start = async (options) => {
  const verifier = createVerifier(options);
  try {
    await verifier.ready();
  } catch (error) {
    verifier.close();
    throw error;
  }
  const app = express();
  app.get('/me', zexpress.auth(verifier), (req, res) => void res.json({ sub: req.auth?.subject }));
  app.use(zexpress.errorHandler());
  return listen(createServer(app), verifier);
};

/** Koa as its README starts it: the same order. */
const startKoa: Start = async (options) => {
  const verifier = createVerifier(options);
  try {
    await verifier.ready();
  } catch (error) {
    verifier.close();
    throw error;
  }
  const app = new Koa();
  app.use(zkoa.errorHandler()).use(zkoa.auth(verifier));
  app.use((ctx) => void (ctx.body = { sub: ctx.state.auth?.subject }));
  return listen(createServer(app.callback()), verifier);
};

/** Fastify with the plugin building the verifier: the check runs in onReady, listen() rejects. */
async function startFastifyWith(
  options: Parameters<typeof zitauth>[1],
): Promise<{ app: FastifyInstance; url: Promise<string> }> {
  const app = Fastify();
  stops.push(() => app.close());
  await app.register(zitauth, options);
  app.get('/me', { onRequest: app.authenticate }, async (req) => ({ sub: req.auth?.subject }));
  return { app, url: app.listen({ host: '127.0.0.1', port: 0 }) };
}

const startFastify: Start = async (options) => (await startFastifyWith(options)).url;

const ADAPTERS: [string, Start][] = [
  ['express', startExpress],
  ['koa', startKoa],
  ['fastify', startFastify],
];

function good(extra: Partial<VerifierOptions> = {}): VerifierOptions {
  return {
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection: credentials,
    ...extra,
  };
}

async function startFailure(start: Promise<string>): Promise<ZitauthConfigError> {
  const error = await start.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ZitauthConfigError);
  return error as ZitauthConfigError;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(ADAPTERS)('the start-up check in %s', (_name, start) => {
  it('starts a good set-up, which then serves JWT and opaque callers', async () => {
    idp.resetCalls();
    const url = await start(good());
    expect(idp.calls('introspect')).toBe(1);
    for (const format of ['jwt', 'opaque'] as const) {
      const token = await idp.mintAccessToken({ format });
      const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sub: expect.any(String) });
    }
  });

  it('refuses to start with an issuer that has a trailing slash, naming both values', async () => {
    const error = await startFailure(start(good({ issuer: `${idp.issuer}/` })));
    expect(error.message).toContain(`names the issuer "${idp.issuer}"`);
    expect(error.message).toContain(`but issuer is set to "${idp.issuer}/"`);
  });

  it('refuses to start with another host name for the IdP, naming both values', async () => {
    const localhost = idp.issuer.replace('127.0.0.1', 'localhost');
    const error = await startFailure(start(good({ issuer: localhost })));
    expect(error.message).toContain(`names the issuer "${idp.issuer}"`);
    expect(error.message).toContain(`but issuer is set to "${localhost}"`);
  });

  it('refuses to start with a wrong introspection secret', async () => {
    const wrong = { clientId: credentials.clientId, clientSecret: 'wrong-secret' };
    const error = await startFailure(start(good({ introspection: wrong })));
    expect(error.message).toContain('introspection refused the client credentials (HTTP 401');
    expect(error.message).not.toContain('wrong-secret');
  });

  it('refuses to start when the IdP cannot be reached', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    const error = await startFailure(start(good({ issuer })));
    expect(error.message).toContain(
      `the discovery document at ${issuer}/.well-known/openid-configuration could not be read`,
    );
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('the Fastify checkOnReady option', () => {
  it('leaves nothing listening when the check fails', async () => {
    const { app, url } = await startFastifyWith(good({ issuer: `${idp.issuer}/` }));
    await expect(url).rejects.toThrow(/start-up check failed/);
    expect(app.server.listening).toBe(false);
  });

  it('fails app.ready() too, for apps that are injected into rather than listening', async () => {
    const app = Fastify();
    stops.push(() => app.close());
    await app.register(zitauth, good({ issuer: `${idp.issuer}/` }));
    await expect(app.ready()).rejects.toBeInstanceOf(ZitauthConfigError);
  });

  it('can be turned off: requests then get the 503', async () => {
    const { url } = await startFastifyWith({
      ...good({ issuer: `${idp.issuer}/` }),
      checkOnReady: false,
    });
    const token = await idp.mintAccessToken();
    const response = await fetch(`${await url}/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(503);
  });

  it('leaves a verifier passed in to its owner unless asked', async () => {
    const verifier = createVerifier(good({ issuer: `${idp.issuer}/` }));
    stops.push(async () => verifier.close());
    await expect((await startFastifyWith({ verifier })).url).resolves.toMatch(/^http:/);
    await expect((await startFastifyWith(verifier)).url).resolves.toMatch(/^http:/);
    const asked = await startFastifyWith({ verifier, checkOnReady: true });
    await expect(asked.url).rejects.toBeInstanceOf(ZitauthConfigError);
  });

  it('refuses a checkOnReady that is not a boolean', async () => {
    const app = Fastify();
    stops.push(() => app.close());
    await expect(
      app.register(zitauth, { ...good(), checkOnReady: 'yes' as unknown as boolean }),
    ).rejects.toThrow('zitauth: checkOnReady must be true or false');
  });
});
