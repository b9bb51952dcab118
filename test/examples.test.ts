/**
 * The quote API examples, one per framework, against the real local IdP over HTTP:
 * every example must answer the same routes the same way (public 200, signed-in 200 with
 * a JWT or an opaque token, bare 401 without a token, 403 without `editor`, 201 with it,
 * 400 on a bad body), and its `config.ts` must name the variable behind a bad setting.
 * Express and Koa go through supertest, Fastify through `inject()`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createVerifier, type Verifier, type VerifierOptions } from '@zitauth/core';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { createApp as createExpressApp } from '../examples/express-quotes/src/app.js';
import * as config from '../examples/quotes-common/src/config.js';
import { createApp as createFastifyApp } from '../examples/fastify-quotes/src/app.js';
import { createApp as createKoaApp } from '../examples/koa-quotes/src/app.js';

/** One request as the table states it. */
interface Call {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  /** A JSON value, or a string sent as is with `Content-Type: application/json`. */
  body?: unknown;
}

/** What came back, the same shape for every framework. */
interface Answer {
  status: number;
  challenge: string | undefined;
  body: Record<string, unknown>;
}

/** Sends calls to an app under test, and stops it. */
interface Driver {
  call(call: Call): Promise<Answer>;
  close(): Promise<void>;
}

/** An example app under test, driven in-process. */
interface Example {
  name: string;
  start(verifier: Verifier): Promise<Driver>;
  config: typeof config;
}

function payload(call: Call): string | undefined {
  if (call.body === undefined) return undefined;
  return typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
}

function headers(call: Call): Record<string, string> {
  const result: Record<string, string> = {};
  if (call.token !== undefined) result['authorization'] = `Bearer ${call.token}`;
  if (call.body !== undefined) result['content-type'] = 'application/json';
  return result;
}

/** supertest for any Node request listener (Express app, Koa's `callback()`). */
function viaSupertest(listener: Parameters<typeof request>[0]): Driver['call'] {
  return async (call) => {
    const method = call.method === 'GET' ? 'get' : 'post';
    let test = request(listener)[method](call.path).set(headers(call));
    const body = payload(call);
    if (body !== undefined) test = test.send(body);
    const response = await test;
    return {
      status: response.status,
      challenge: response.headers['www-authenticate'] as string | undefined,
      body: response.body as Record<string, unknown>,
    };
  };
}

/** Fastify's `inject()`: no socket, the same request pipeline. */
function viaInject(
  app: Awaited<ReturnType<typeof createFastifyApp>>,
): (call: Call) => Promise<Answer> {
  return async (call) => {
    const body = payload(call);
    const response = await app.inject({
      method: call.method,
      url: call.path,
      headers: headers(call),
      ...(body === undefined ? {} : { payload: body }),
    });
    return {
      status: response.statusCode,
      challenge: response.headers['www-authenticate'] as string | undefined,
      body: response.json<Record<string, unknown>>(),
    };
  };
}

const examples: Example[] = [
  {
    name: 'express-quotes',
    start: async (verifier) => ({
      call: viaSupertest(createExpressApp({ auth: { verifier } })),
      close: async () => {},
    }),
    config,
  },
  {
    name: 'koa-quotes',
    start: async (verifier) => ({
      call: viaSupertest(createKoaApp({ auth: { verifier } }).callback()),
      close: async () => {},
    }),
    config,
  },
  {
    name: 'fastify-quotes',
    start: async (verifier) => {
      const app = await createFastifyApp({ auth: { verifier } });
      return { call: viaInject(app), close: () => app.close() };
    },
    config,
  },
];

let idp: TestIdp;
let options: VerifierOptions;
const tokens = { editor: '', reader: '', opaque: '', pat: '' };

beforeAll(async () => {
  idp = await startTestIdp();
  const api = idp.createApiApp({ auth: 'basic' });
  options = {
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection: { clientId: api.clientId, clientSecret: api.clientSecret },
  };
  const editor = idp.createUser({ userName: 'ada', roles: ['editor'] });
  const reader = idp.createUser({ userName: 'bob', roles: ['reader'] });
  tokens.editor = await idp.mintAccessToken({ subject: editor.id });
  tokens.reader = await idp.mintAccessToken({ subject: reader.id });
  tokens.opaque = await idp.mintAccessToken({ subject: reader.id, format: 'opaque' });
  tokens.pat = idp.createServiceUser({ roles: ['editor'] }).pat;
});

afterAll(async () => {
  await idp?.close();
});

describe.each(examples)('$name', (example) => {
  let driver: Driver;
  let verifier: Verifier;
  const call = (request: Call): Promise<Answer> => driver.call(request);

  beforeAll(async () => {
    verifier = createVerifier(options);
    driver = await example.start(verifier);
  });

  afterAll(async () => {
    await driver?.close();
    verifier?.close();
  });

  it('serves the public quote without a token', async () => {
    const answer = await call({ method: 'GET', path: '/api/public' });
    expect(answer.status).toBe(200);
    expect(answer.body['quote']).toMatchObject({ text: 'Trust, but verify.' });
  });

  it('serves a quote to a caller with a JWT and says who asked', async () => {
    const answer = await call({ method: 'GET', path: '/api/quote', token: tokens.editor });
    expect(answer.status).toBe(200);
    expect(answer.body['quote']).toMatchObject({
      text: expect.any(String),
      author: expect.any(String),
    });
    expect(answer.body['askedBy']).toMatchObject({ tokenKind: 'jwt' });
  });

  it('serves a quote to a caller with an opaque token, checked by introspection', async () => {
    const answer = await call({ method: 'GET', path: '/api/quote', token: tokens.opaque });
    expect(answer.status).toBe(200);
    expect(answer.body['askedBy']).toMatchObject({ tokenKind: 'opaque' });
  });

  it('refuses a caller without a token with 401 and a bare challenge', async () => {
    const answer = await call({ method: 'GET', path: '/api/quote' });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe('Bearer realm="api"');
    expect(answer.body).toMatchObject({ error: 'unauthorized' });
  });

  it('refuses an unknown opaque token with 401 invalid_token', async () => {
    const answer = await call({ method: 'GET', path: '/api/quote', token: 'not-a-real-token' });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/^Bearer realm="api", error="invalid_token"/);
  });

  it('refuses to add a quote for a caller without the editor role with 403', async () => {
    const answer = await call({
      method: 'POST',
      path: '/api/quotes',
      token: tokens.reader,
      body: { text: 'Hello', author: 'Bob' },
    });
    expect(answer.status).toBe(403);
    expect(answer.challenge).toMatch(/error="insufficient_scope"/);
    expect(answer.body).toMatchObject({ error: 'insufficient_scope' });
  });

  it('refuses to add a quote without a token with 401 before reading the body', async () => {
    const answer = await call({ method: 'POST', path: '/api/quotes', body: '{not json' });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe('Bearer realm="api"');
  });

  it('adds a quote for an editor with 201', async () => {
    const answer = await call({
      method: 'POST',
      path: '/api/quotes',
      token: tokens.editor,
      body: { text: '  Keep tokens short-lived.  ', author: 'Ada' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body['quote']).toMatchObject({
      id: expect.any(Number),
      text: 'Keep tokens short-lived.',
      author: 'Ada',
      addedBy: expect.any(String),
    });
  });

  it('adds a quote for a service user whose personal access token has the editor role', async () => {
    const answer = await call({
      method: 'POST',
      path: '/api/quotes',
      token: tokens.pat,
      body: { text: 'Automate the boring parts.', author: 'quote-bot' },
    });
    expect(answer.status).toBe(201);
  });

  it.each([
    ['an empty text', { text: '', author: 'Ada' }, /^text /],
    ['a missing author', { text: 'Hi' }, /^author /],
    ['a text that is too long', { text: 'x'.repeat(281), author: 'Ada' }, /^text /],
    ['an array', [1, 2], /JSON object/],
    ['malformed JSON', '{"text": ', /JSON/],
  ])('answers 400 with a JSON reason for %s', async (_name, body, reason) => {
    const answer = await call({ method: 'POST', path: '/api/quotes', token: tokens.editor, body });
    expect(answer.status).toBe(400);
    expect(answer.body['error']).toBe('invalid_request');
    expect(answer.body['error_description']).toMatch(reason);
  });

  it('echoes the verified caller on /api/me without the raw claims', async () => {
    const answer = await call({ method: 'GET', path: '/api/me', token: tokens.editor });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      issuer: idp.issuer,
      tokenKind: 'jwt',
      roles: { editor: { [idp.defaultOrg.id]: idp.defaultOrg.primaryDomain } },
    });
    expect(answer.body).not.toHaveProperty('claims');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const answer = await call({ method: 'GET', path: '/nope' });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: 'not_found' });
  });

  describe('config', () => {
    const { readConfig, ConfigError } = example.config;

    /** The variable a bad environment is blamed on. */
    function blamed(env: Record<string, string>): string | undefined {
      try {
        readConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) {
          expect(error.message).toContain(error.variable);
          return error.variable;
        }
        throw error;
      }
      return undefined;
    }

    const issuer = 'https://acme.zitadel.cloud';

    it('uses the local test IdP and port 3000 when nothing is set', () => {
      expect(readConfig({})).toEqual({ port: 3000, zitadel: undefined });
    });

    it('reads a real ZITADEL with Basic introspection credentials', () => {
      const env = {
        ZITADEL_ISSUER: issuer,
        ZITADEL_PROJECT_ID: '123',
        ZITADEL_CLIENT_ID: 'api@acme',
        ZITADEL_CLIENT_SECRET: 's3cret',
        PORT: '8080',
      };
      expect(readConfig(env)).toEqual({
        port: 8080,
        zitadel: {
          issuer,
          projectId: '123',
          introspection: { clientId: 'api@acme', clientSecret: 's3cret' },
        },
      });
    });

    it('accepts an application key file for introspection', async () => {
      const app = idp.createApiApp({ auth: 'private_key_jwt' });
      const path = await idp.writeKeyFile(app.keyFile);
      const env = { ZITADEL_ISSUER: issuer, ZITADEL_PROJECT_ID: '1', ZITADEL_KEY_FILE: path };
      expect(readConfig(env).zitadel?.introspection).toEqual({ keyFile: path });
    });

    it.each([
      ['ZITADEL_PROJECT_ID', { ZITADEL_ISSUER: issuer }],
      ['ZITADEL_ISSUER', { ZITADEL_PROJECT_ID: '1' }],
      ['ZITADEL_ISSUER', { ZITADEL_ISSUER: 'acme.zitadel.cloud', ZITADEL_PROJECT_ID: '1' }],
      ['ZITADEL_ISSUER', { ZITADEL_ISSUER: 'http://acme.example', ZITADEL_PROJECT_ID: '1' }],
      ['ZITADEL_ISSUER', { ZITADEL_ISSUER: `${issuer}/`, ZITADEL_PROJECT_ID: '1' }],
      [
        'ZITADEL_CLIENT_SECRET',
        { ZITADEL_ISSUER: issuer, ZITADEL_PROJECT_ID: '1', ZITADEL_CLIENT_ID: 'a' },
      ],
      [
        'ZITADEL_CLIENT_ID',
        { ZITADEL_ISSUER: issuer, ZITADEL_PROJECT_ID: '1', ZITADEL_CLIENT_SECRET: 's' },
      ],
      [
        'ZITADEL_KEY_FILE',
        { ZITADEL_ISSUER: issuer, ZITADEL_PROJECT_ID: '1', ZITADEL_KEY_FILE: '/no/such/file.json' },
      ],
      [
        'ZITADEL_KEY_FILE',
        {
          ZITADEL_ISSUER: issuer,
          ZITADEL_PROJECT_ID: '1',
          ZITADEL_KEY_FILE: '{"type":"serviceaccount"}',
        },
      ],
      ['PORT', { PORT: 'eighty' }],
      ['PORT', { PORT: '70000' }],
      ['REDIS_URL', { REDIS_URL: 'cache.internal:6379' }],
      ['CACHE_MAX_TTL_MS', { CACHE_MAX_TTL_MS: '0' }],
      ['CACHE_MAX_TTL_MS', { CACHE_MAX_TTL_MS: '2s' }],
    ])('names %s when it is missing or wrong', (variable, env) => {
      expect(blamed(env)).toBe(variable);
    });

    it('reads a shared Redis cache and the cache time', () => {
      const env = { REDIS_URL: 'rediss://:pw@cache.internal:6380', CACHE_MAX_TTL_MS: '2000' };
      expect(readConfig(env)).toEqual({
        port: 3000,
        zitadel: undefined,
        redisUrl: 'rediss://:pw@cache.internal:6380',
        cacheMaxTtlMs: 2000,
      });
    });

    it('never echoes a Redis password in an error', () => {
      expect(() => readConfig({ REDIS_URL: 'http://:hunter2@cache' })).toThrow(ConfigError);
      expect(() => readConfig({ REDIS_URL: 'http://:hunter2@cache' })).not.toThrow(/hunter2/);
    });

    it('never echoes the client secret in an error', () => {
      const env = { ZITADEL_ISSUER: issuer, ZITADEL_CLIENT_SECRET: 'top-secret-value' };
      expect(() => readConfig(env)).toThrow(ConfigError);
      expect(() => readConfig(env)).not.toThrow(/top-secret-value/);
    });
  });
});
