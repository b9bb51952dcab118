// auth() in a Koa app over HTTP against the testing IdP: what it sets on ctx.state, how
// its errors reach Koa's own handler or the user's, options and transports.
import Koa from 'koa';
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
  type AuthState,
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

/** An app answering ctx.state.auth's subject (or null), behind `before` middleware. */
function app(
  mw: Koa.Middleware<AuthState>,
  ...before: Koa.Middleware[]
): ReturnType<Koa['callback']> {
  const built = new Koa<AuthState>();
  for (const m of before) built.use(m);
  built.use(mw).use((ctx) => {
    ctx.body = { subject: ctx.state.auth?.subject ?? null };
  });
  return built.callback();
}

const token = (subject = 'user-1'): Promise<string> => idp.mintAccessToken({ subject });

describe('auth()', () => {
  it('sets the verified caller on ctx.state.auth', async () => {
    const res = await request(app(middleware()))
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'user-1' });
  });

  it('sets ctx.state.auth to null for optional auth without a token', async () => {
    const res = await request(app(middleware({ authRequired: false }))).get('/');
    expect(res.body).toEqual({ subject: null });
  });

  it("answers through Koa's own handler with status, WWW-Authenticate and the message", async () => {
    const res = await request(app(middleware({ realm: 'quotes' }))).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
    expect(res.text).toBe('No access token was sent');
  });

  it('lets a user error middleware catch and render the error', async () => {
    const mine: Koa.Middleware = async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        if (!isZitauthError(error)) throw error;
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = error.code;
      }
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
  });

  it('refuses unknown option keys with the closest known one', () => {
    const options = { issuer: idp.issuer, projectId: 'p', authRequierd: false };
    expect(() => auth(options as unknown as AuthOptions)).toThrow(
      'zitauth: unknown option "authRequierd" in auth() options; did you mean "authRequired"?',
    );
    const typo = { issuer: idp.issuer, projectId: 'p', instrospection: {} };
    expect(() => auth(typo as unknown as AuthOptions)).toThrow(/did you mean "introspection"\?/);
  });
});

describe('token transports', () => {
  it('reads ?access_token= only when tokenTransport.query is on', async () => {
    const path = `/?access_token=${await token()}`;
    const on = await request(app(middleware({ tokenTransport: { query: true } }))).get(path);
    expect(on.body).toEqual({ subject: 'user-1' });
    expect((await request(app(middleware())).get(path)).status).toBe(401);
  });

  it('reads ctx.request.body.access_token only when tokenTransport.body is on', async () => {
    const value = await token();
    // What a body parser (koa-bodyparser, @koa/bodyparser) leaves on the request.
    const parsed: Koa.Middleware = async (ctx, next) => {
      (ctx.request as { body?: unknown }).body = { access_token: value };
      await next();
    };
    const on = await request(app(middleware({ tokenTransport: { body: true } }), parsed))
      .post('/')
      .type('form')
      .send('a=1');
    expect(on.body).toEqual({ subject: 'user-1' });
    const off = await request(app(middleware(), parsed)).post('/').type('form').send('a=1');
    expect(off.status).toBe(401);
  });

  it('reads no body token from a JSON body or a GET', async () => {
    const value = await token();
    const parsed: Koa.Middleware = async (ctx, next) => {
      (ctx.request as { body?: unknown }).body = { access_token: value };
      await next();
    };
    const on = app(middleware({ tokenTransport: { body: true } }), parsed);
    const json = await request(on).post('/').type('json').send('{}');
    expect(json.status).toBe(401);
    expect(json.headers['www-authenticate']).toBe('Bearer realm="api"');
    const get = await request(on).get('/').type('form');
    expect(get.status).toBe(401);
  });
});

/**
 * GET / with a valid token on `built`, set up wrongly: the response, and what reached
 * `app.on('error')`.
 */
async function misused(built: Koa<AuthState>) {
  const emitted: unknown[] = [];
  built.on('error', (error: unknown) => void emitted.push(error));
  const res = await request(built.callback())
    .get('/')
    .set('Authorization', `Bearer ${await token()}`);
  return { res, emitted };
}

/** An `OperatorFault` of kind misuse whose message contains `text`. */
const misuseFault = (text: string) =>
  expect.objectContaining({ kind: 'misuse', message: expect.stringContaining(text) });

describe('auth used uncalled', () => {
  it('answers 500 to app.use(auth), naming the missing call to the operator', async () => {
    const uncalled = auth as unknown as Koa.Middleware<AuthState>;
    const built = new Koa<AuthState>().use(errorHandler()).use(uncalled);
    built.use((ctx) => {
      ctx.body = 'open';
    });
    const { res, emitted } = await misused(built);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'Access to this resource is not set up correctly on the server',
    });
    expect(emitted).toContainEqual(misuseFault('e.g. app.use(auth({ issuer, projectId }))'));
  });
});

describe('getAuth()', () => {
  function getAuthApp(mw: AuthMiddleware): ReturnType<Koa['callback']> {
    return new Koa<AuthState>()
      .use(errorHandler())
      .use(mw)
      .use((ctx) => {
        ctx.body = { subject: getAuth(ctx).subject };
      })
      .callback();
  }

  it('returns the caller', async () => {
    const res = await request(getAuthApp(middleware()))
      .get('/')
      .set('Authorization', `Bearer ${await token()}`);
    expect(res.body).toEqual({ subject: 'user-1' });
  });

  it('answers 500, naming the fix to the operator, where auth() did not run', async () => {
    const built = new Koa<AuthState>().use(errorHandler()).use((ctx) => {
      ctx.body = { subject: getAuth(ctx).subject };
    });
    const { res, emitted } = await misused(built);
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(emitted).toContainEqual(
      misuseFault('getAuth() ran on a request no authentication ran for'),
    );
  });

  it('throws 401 with the configured realm when there is no caller', async () => {
    const mw = middleware({ authRequired: false, realm: 'quotes' });
    const res = await request(getAuthApp(mw)).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });

  it('gives guards the same realm for a caller without a token', async () => {
    const mw = middleware({ authRequired: false, realm: 'quotes' });
    const guarded = new Koa<AuthState>().use(errorHandler()).use(mw).use(requireRoles('admin'));
    const res = await request(guarded.callback()).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="quotes"');
  });
});
