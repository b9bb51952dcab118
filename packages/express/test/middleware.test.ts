// auth() in an Express app over HTTP against the testing IdP: what it attaches, how its
// errors reach Express's default handler or the user's own, options and transports.
import express, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  auth,
  createVerifier,
  errorHandler,
  getAuth,
  isZitauthError,
  requireRoles,
  ZitauthConfigError,
  type AuthMiddleware,
  type AuthOptions,
} from '../src/index.js';

let idp: TestIdp;
const created: AuthMiddleware[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(async () => {
  await idp.close();
});
afterEach(() => {
  for (const middleware of created.splice(0)) middleware.verifier.close();
});

function middleware(options: Partial<AuthOptions> = {}): AuthMiddleware {
  const made = auth({ issuer: idp.issuer, projectId: idp.defaultProject.id, ...options });
  created.push(made);
  return made;
}

/** An app answering `req.auth`'s subject (or null) on every path. */
function app(mw: AuthMiddleware, ...after: ErrorRequestHandler[]): express.Express {
  const built = express();
  built.use(express.urlencoded({ extended: false }));
  built.use(mw);
  built.all('/{*path}', (req, res) => void res.json({ subject: req.auth?.subject ?? null }));
  if (after.length > 0) built.use(...after);
  return built;
}

const token = (subject = 'user-1'): Promise<string> => idp.mintAccessToken({ subject });

describe('auth()', () => {
  it('attaches the verified caller as req.auth', async () => {
    const res = await request(app(middleware()))
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'user-1' });
  });

  it('sets req.auth to null for optional auth without a token', async () => {
    const res = await request(app(middleware({ authRequired: false }))).get('/');
    expect(res.body).toEqual({ subject: null });
  });

  it("answers through Express's default handler with status and WWW-Authenticate", async () => {
    const res = await request(app(middleware({ realm: 'quotes' }))).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });

  it('hands the error to a user error handler, which can render it', async () => {
    const mine: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
      expect(isZitauthError(error)).toBe(true);
      if (isZitauthError(error)) res.status(error.status).set(error.headers).send(error.code);
    };
    const res = await request(app(middleware(), mine)).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.text).toBe('ERR_ZITAUTH_NO_TOKEN');
  });

  it('shares one verifier between apps, given as is or as { verifier }', async () => {
    const verifier = createVerifier({ issuer: idp.issuer, projectId: idp.defaultProject.id });
    try {
      const shared = auth(verifier);
      expect(shared.verifier).toBe(verifier);
      const optional = auth({ verifier, authRequired: false });
      expect((await request(app(optional)).get('/')).status).toBe(200);
      expect((await request(app(shared)).get('/')).status).toBe(401);
      const res = await request(app(optional)).get('/').set('Authorization', 'Bearer x.y.z');
      expect(res.status).toBe(401);
    } finally {
      verifier.close();
    }
  });

  it('throws ZitauthConfigError at creation for bad options', () => {
    expect(() => auth({ issuer: 'not a url', projectId: 'p' })).toThrow(ZitauthConfigError);
    expect(() => auth({ issuer: idp.issuer })).toThrow(ZitauthConfigError);
    const typo = { issuer: idp.issuer, projectId: 'p', authRequired: 'no' };
    expect(() => auth(typo as unknown as AuthOptions)).toThrow(/authRequired/);
    expect(() => auth({ verifier: {} } as unknown as AuthOptions)).toThrow(/verifier/);
    expect(() => auth(undefined as unknown as AuthOptions)).toThrow(ZitauthConfigError);
  });

  it('refuses unknown option keys with the closest known one', () => {
    const options = { issur: idp.issuer, projectId: 'p' } as unknown as AuthOptions;
    expect(() => auth(options)).toThrow(
      'zitauth: unknown option "issur" in auth() options; did you mean "issuer"?',
    );
    const optional = { issuer: idp.issuer, projectId: 'p', authRequierd: false };
    expect(() => auth(optional as unknown as AuthOptions)).toThrow(/did you mean "authRequired"\?/);
    const nested = { issuer: idp.issuer, projectId: 'p', cache: { maxTtl: 1 } };
    expect(() => auth(nested as unknown as AuthOptions)).toThrow(
      /in cache; did you mean "maxTtlMs"\?/,
    );
    expect(() => errorHandler({ logger: console.warn } as never)).toThrow(
      /unknown option "logger" in errorHandler options; known options: log$/,
    );
  });
});

describe('token transports', () => {
  it('reads ?access_token= only when tokenTransport.query is on', async () => {
    const path = `/?access_token=${await token()}`;
    const on = await request(app(middleware({ tokenTransport: { query: true } }))).get(path);
    expect(on.body).toEqual({ subject: 'user-1' });
    expect((await request(app(middleware())).get(path)).status).toBe(401);
  });

  it('reads a form body access_token only when tokenTransport.body is on', async () => {
    const form = `access_token=${await token()}`;
    const on = await request(app(middleware({ tokenTransport: { body: true } })))
      .post('/')
      .type('form')
      .send(form);
    expect(on.body).toEqual({ subject: 'user-1' });
    expect((await request(app(middleware())).post('/').type('form').send(form)).status).toBe(401);
  });

  it('refuses a header and a query token together with invalid_request', async () => {
    const value = await token();
    const res = await request(app(middleware({ tokenTransport: { query: true } }), errorHandler()))
      .get(`/?access_token=${value}`)
      .set('Authorization', `Bearer ${value}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'More than one access token was sent',
    });
  });
});

describe('auth used uncalled', () => {
  it('answers 500 to app.use(auth), naming the missing call to the operator', async () => {
    const logged: string[] = [];
    const uncalled = auth as unknown as express.RequestHandler;
    const built = express()
      .use(uncalled)
      .get('/', (_req, res) => void res.send('open'))
      .use(errorHandler({ log: (message) => void logged.push(message) }));
    const res = await request(built)
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'Access to this resource is not set up correctly on the server',
    });
    expect(logged).toEqual([
      expect.stringContaining(
        'auth() was used as a middleware itself, so the framework called it with a request',
      ),
    ]);
    expect(logged[0]).toContain('app.use(auth({ issuer, projectId }))');
  });
});

describe('getAuth()', () => {
  function getAuthApp(mw: AuthMiddleware): express.Express {
    const built = express();
    built.get('/', mw, (req, res) => void res.json({ subject: getAuth(req).subject }));
    return built.use(errorHandler());
  }

  it('returns the caller', async () => {
    const res = await request(getAuthApp(middleware()))
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.body).toEqual({ subject: 'user-1' });
  });

  it('answers 500, naming the fix to the operator, on a route auth() does not cover', async () => {
    const logged: string[] = [];
    const built = express()
      .get('/', (req, res) => void res.json({ subject: getAuth(req).subject }))
      .use(errorHandler({ log: (message) => void logged.push(message) }));
    const res = await request(built)
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(logged).toEqual([
      expect.stringContaining('getAuth() ran on a request no authentication ran for'),
    ]);
  });

  it('throws 401 with the configured realm when there is no caller', async () => {
    const res = await request(getAuthApp(middleware({ authRequired: false, realm: 'quotes' }))).get(
      '/',
    );
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });

  it('gives guards the same realm for a caller without a token', async () => {
    const built = express();
    built.get('/', middleware({ authRequired: false, realm: 'quotes' }), requireRoles('admin'));
    const res = await request(built).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });
});
