// What the operator sees, in all three adapters, against the real testing IdP: a fault
// that is the operator's to fix (wrong issuer, refused introspection credentials, an
// unreachable key set) is logged through the framework's own logger once per cause per
// interval, naming the fix; a caller's bad token is never logged at warn.
import { Writable } from 'node:stream';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier, OperatorFault, type Verifier, type VerifierOptions } from '@zitauth/core';
import * as zexpress from '@zitauth/express';
import * as zkoa from '@zitauth/koa';
import { zitauth } from '@zitauth/fastify';
import { startTestIdp, type TestIdp } from '@zitauth/testing';

let idp: TestIdp;
const verifiers: Verifier[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
  for (const verifier of verifiers.splice(0)) verifier.close();
  idp.faults.clear();
});
afterAll(async () => {
  await idp.close();
});

/** One app per adapter with `/me` behind auth, and what its logger printed as warnings. */
interface LoggedApp {
  get(token: string): Promise<number>;
  warnings(): string[];
}

/** `guardFirst`: a role guard runs before authentication (a misuse). */
type Build = (verifier: Verifier, guardFirst?: boolean) => Promise<LoggedApp>;

const expressApp: Build = async (verifier, guardFirst = false) => {
  const warnings: string[] = [];
  const app = express();
  const steps = guardFirst ? [zexpress.requireRoles('admin')] : [zexpress.auth(verifier)];
  app.get('/me', ...steps, (_req, res) => void res.json({}));
  app.use(zexpress.errorHandler({ log: (message) => void warnings.push(message) }));
  return {
    get: async (token) => (await request(app).get('/me').auth(token, { type: 'bearer' })).status,
    warnings: () => warnings,
  };
};

/** Koa with no listener of its own: the default one prints to console.error. */
const koaApp: Build = async (verifier, guardFirst = false) => {
  const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const app = new Koa();
  app.use(zkoa.errorHandler());
  if (guardFirst) app.use(zkoa.requireRoles('admin'));
  app.use(zkoa.auth(verifier));
  app.use((ctx) => void (ctx.body = {}));
  const callback = app.callback();
  return {
    get: async (token) =>
      (await request(callback).get('/me').auth(token, { type: 'bearer' })).status,
    warnings: () => printed.mock.calls.map((args) => String(args[0])),
  };
};

/** Fastify with its logger on, written to a buffer; warnings are level 40. */
const fastifyApp: Build = async (verifier, guardFirst = false) => {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  const app = Fastify({ logger: { level: 'info', stream } });
  closers.push(() => app.close());
  await app.register(zitauth, { verifier });
  const onRequest = guardFirst ? [app.requireRoles('admin'), app.authenticate] : app.authenticate;
  app.get('/me', { onRequest }, async () => ({}));
  return {
    get: async (token) =>
      (await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode,
    warnings: () => lines.filter((line) => line.level >= 40).map((line) => line.msg),
  };
};

const ADAPTERS: [string, Build][] = [
  ['express', expressApp],
  ['koa', koaApp],
  ['fastify', fastifyApp],
];

function verifier(options: Partial<VerifierOptions> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  verifiers.push(created);
  return created;
}

describe.each(ADAPTERS)('the operator log in %s', (_name, build) => {
  it('logs a discovery issuer mismatch once, naming both issuers', async () => {
    const app = await build(verifier({ issuer: `${idp.issuer}/` }));
    const token = await idp.mintAccessToken();
    expect(await app.get(token)).toBe(503);
    expect(await app.get(token)).toBe(503);
    const warnings = app.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`names the issuer "${idp.issuer}"`);
    expect(warnings[0]).toContain(`but issuer is set to "${idp.issuer}/"`);
    expect(warnings.join('\n')).not.toContain(token);
  });

  it('logs refused introspection credentials, never the token', async () => {
    const app = await build(
      verifier({ introspection: { clientId: 'api@project', clientSecret: 'wrong' } }),
    );
    const token = await idp.mintAccessToken({ format: 'opaque' });
    expect(await app.get(token)).toBe(503);
    const warnings = app.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('introspection refused the client credentials (HTTP 401');
    expect(warnings[0]).not.toContain(token);
    expect(warnings[0]).not.toContain('wrong');
  });

  it('logs an unreachable key set with its URL', async () => {
    idp.faults.set('keys', { status: 500 });
    const app = await build(verifier());
    expect(await app.get(await idp.mintAccessToken())).toBe(503);
    expect(app.warnings()).toEqual([
      expect.stringContaining(`the key set at ${idp.issuer}/oauth/v2/keys could not be read`),
    ]);
  });

  it('logs a guard that runs before authentication once, naming the fix', async () => {
    const app = await build(verifier(), true);
    const token = await idp.mintAccessToken({ roles: ['admin'] });
    expect(await app.get(token)).toBe(500);
    expect(await app.get(token)).toBe(500);
    const warnings = app.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'zitauth: requireRoles(admin) ran on a request no authentication',
    );
    expect(warnings[0]).toContain('An auth() / authenticate must run before this guard');
    expect(warnings[0]).not.toContain(token);
  });

  it('logs an open circuit once, naming the endpoint and the failures', async () => {
    idp.faults.set('introspect', { status: 500 });
    const { clientId, clientSecret } = idp.createApiApp({ auth: 'basic' });
    const app = await build(
      verifier({
        introspection: { clientId, clientSecret },
        circuitBreaker: { failureThreshold: 2, coolOffMs: 60_000 },
      }),
    );
    const opaque = () => idp.mintAccessToken({ format: 'opaque' });
    const before = idp.calls('introspect');
    for (let i = 0; i < 4; i += 1) expect(await app.get(await opaque())).toBe(503);
    expect(idp.calls('introspect') - before).toBe(2);
    const circuit = app.warnings().filter((line) => line.includes('circuit open'));
    expect(circuit).toHaveLength(1);
    expect(circuit[0]).toContain(
      `zitauth: circuit open after 2 failures of the introspection endpoint ${idp.issuer}/oauth/v2/introspect`,
    );
  });

  it("never logs a caller's bad token at warn", async () => {
    const app = await build(verifier());
    const expired = await idp.mintAccessToken({ expiresInSeconds: -60 });
    expect(await app.get(expired)).toBe(401);
    expect(await app.get('not-a-jwt')).toBe(401);
    expect(app.warnings()).toEqual([]);
  });
});

describe('the fault object', () => {
  it('reaches a custom Koa listener as an OperatorFault that Koa would print', async () => {
    const app = new Koa();
    const seen: unknown[] = [];
    app.on('error', (error: unknown) => void seen.push(error));
    app.use(zkoa.auth(verifier({ issuer: `${idp.issuer}/` })));
    await request(app.callback())
      .get('/')
      .auth(await idp.mintAccessToken(), { type: 'bearer' });
    const fault = seen.find((error) => error instanceof OperatorFault);
    expect(fault).toMatchObject({ kind: 'issuer-mismatch', expose: false });
  });
});
