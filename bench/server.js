// One server under test, started as a child process by run.js:
//   node server.js <framework> <kind>
// kinds: bare (no auth), hook (a hook or middleware that sets a constant caller: what
// any authentication costs in the framework before it does anything), zitauth, zitauth-nocache (every request checks a signature),
// zitauth-introspect (opaque tokens, introspection with a warm cache), peer (the
// framework's usual JWT library) and floor (a hand-written node:crypto check: split,
// one synchronous verify() with a KeyObject per kid, iss/aud/exp; what no library can
// beat), and refuse (no authentication: every request is refused the framework's own way, a
// prebuilt error through its error path to a handler that writes zitauth's no-token
// status, challenge and body; what any refusal costs before a library does anything). Every kind answers GET /hello with the same small JSON body (bare included: it
// echoes the subject of the token the bench sends, as the others do), and refuses with
// 401 and a Bearer challenge, so the only difference between them is the
// authentication in front. Prints `listening <port>` when ready.
import { createPublicKey, verify } from 'node:crypto';

const [framework, kind] = process.argv.slice(2);
const issuer = process.env.BENCH_ISSUER;
const projectId = process.env.BENCH_PROJECT_ID;
const body = { hello: 'world' };
// bare answers what an authenticated route answers, built the same way: the body and the
// subject of the token the bench sends.
const subject = process.env.BENCH_SUBJECT;
/** The constant caller of the no-op hook. */
const constantCaller = { sub: subject };
const jwks = await (await fetch(`${issuer}/oauth/v2/keys`)).json();
const rs256 = jwks.keys.find((jwk) => jwk.alg === 'RS256');

function zitauthOptions() {
  if (kind === 'zitauth-introspect') {
    return {
      issuer,
      projectId,
      mode: 'introspect',
      introspection: {
        clientId: process.env.BENCH_CLIENT_ID,
        clientSecret: process.env.BENCH_CLIENT_SECRET,
      },
      // Longer than a bench run, so "IdP calls = distinct tokens" is checked, not TTL churn.
      cache: { maxTtlMs: 3_600_000 },
    };
  }
  return { issuer, projectId, cache: { enabled: kind !== 'zitauth-nocache' } };
}

const FLOOR_SCHEMES = {
  RS256: ['sha256', {}],
  ES256: ['sha256', { dsaEncoding: 'ieee-p1363' }],
  EdDSA: [null, {}],
};

/** The floor: the least a correct JWT check must do, written straight on node:crypto. */
function createFloor() {
  const keys = new Map(
    jwks.keys.map((jwk) => [
      jwk.kid,
      { alg: jwk.alg, key: createPublicKey({ key: jwk, format: 'jwk' }) },
    ]),
  );
  return (authorization) => {
    if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return null;
    const token = authorization.slice(7);
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    try {
      const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString());
      const entry = keys.get(header.kid);
      const scheme = FLOOR_SCHEMES[header.alg];
      if (entry === undefined || scheme === undefined || entry.alg !== header.alg) return null;
      const signature = Buffer.from(token.slice(last + 1), 'base64url');
      const input = Buffer.from(token.slice(0, last), 'latin1');
      if (!verify(scheme[0], input, { key: entry.key, ...scheme[1] }, signature)) return null;
      const claims = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString());
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (claims.iss !== issuer || !aud.includes(projectId)) return null;
      return typeof claims.exp === 'number' && claims.exp * 1000 > Date.now() ? claims : null;
    } catch {
      return null;
    }
  };
}

const refusal = { error: 'invalid_token', error_description: 'The access token is invalid' };

/** The refuse kind's one error: zitauth's answer to a request without a token. */
const prebuilt = Object.assign(new Error('No access token was sent'), {
  status: 401,
  headers: { 'WWW-Authenticate': 'Bearer realm="api"' },
  body: { error: 'unauthorized', error_description: 'No access token was sent' },
});

async function expressApp() {
  const { default: express } = await import('express');
  const app = express();
  if (kind.startsWith('zitauth')) {
    const { auth, errorHandler } = await import('@zitauth/express');
    app.use(auth(zitauthOptions()));
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.auth.subject }));
    app.use(errorHandler());
  } else if (kind === 'peer') {
    const { auth } = await import('express-oauth2-jwt-bearer');
    app.use(
      auth({
        issuer,
        jwksUri: `${issuer}/oauth/v2/keys`,
        audience: projectId,
        tokenSigningAlg: 'RS256',
      }),
    );
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.auth.payload.sub }));
  } else if (kind === 'hook') {
    app.use((req, res, next) => {
      req.claims = constantCaller;
      next();
    });
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.claims.sub }));
  } else if (kind === 'floor') {
    const check = createFloor();
    app.use((req, res, next) => {
      req.claims = check(req.headers.authorization);
      if (req.claims !== null) next();
      else res.status(401).set('WWW-Authenticate', 'Bearer realm="api"').json(refusal);
    });
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.claims.sub }));
  } else if (kind === 'refuse') {
    app.use((req, res, next) => next(prebuilt));
    app.get('/hello', (_req, res) => res.json({ ...body, sub: subject }));
    app.use((error, req, res, _next) =>
      res.status(error.status).set(error.headers).json(error.body),
    );
  } else {
    app.get('/hello', (_req, res) => res.json({ ...body, sub: subject }));
  }
  return (port) =>
    new Promise((resolve) => {
      const server = app.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
}

async function koaApp() {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  if (kind.startsWith('zitauth')) {
    const { auth, errorHandler } = await import('@zitauth/koa');
    app.use(errorHandler());
    app.use(auth(zitauthOptions()));
  } else if (kind === 'peer') {
    const { default: jwt } = await import('koa-jwt');
    const secret = createPublicKey({ key: rs256, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    app.use(jwt({ secret, algorithms: ['RS256'], issuer, audience: projectId }));
  } else if (kind === 'hook') {
    app.use((ctx, next) => {
      ctx.state.claims = constantCaller;
      return next();
    });
  } else if (kind === 'floor') {
    const check = createFloor();
    app.use(async (ctx, next) => {
      ctx.state.claims = check(ctx.get('authorization'));
      if (ctx.state.claims !== null) return next();
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="api"');
      ctx.body = refusal;
    });
  } else if (kind === 'refuse') {
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = error.body;
      }
    });
    app.use(() => {
      throw prebuilt;
    });
  }
  // Each kind reads the caller where its library puts it, and nothing else.
  const subjectOf = {
    zitauth: (ctx) => ctx.state.auth.subject,
    peer: (ctx) => ctx.state.user.sub,
    floor: (ctx) => ctx.state.claims.sub,
    hook: (ctx) => ctx.state.claims.sub,
  }[kind.startsWith('zitauth') ? 'zitauth' : kind];
  app.use((ctx) => {
    if (ctx.path !== '/hello') return;
    ctx.body =
      subjectOf === undefined ? { ...body, sub: subject } : { ...body, sub: subjectOf(ctx) };
  });
  return (port) =>
    new Promise((resolve) => {
      const server = app.listen(port, '127.0.0.1', () => resolve(server.address().port));
    });
}

async function fastifyApp() {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  // Declared, as Fastify asks of every request property a hook sets (zitauth's plugin and
  // @fastify/jwt declare theirs), so the request object keeps one shape.
  app.decorateRequest('claims', null);
  let onRequest;
  let subjectOf;
  if (kind.startsWith('zitauth')) {
    const { default: zitauth } = await import('@zitauth/fastify');
    await app.register(zitauth, zitauthOptions());
    onRequest = app.authenticate;
    subjectOf = (req) => req.auth.subject;
  } else if (kind === 'peer') {
    const { default: fastifyJwt } = await import('@fastify/jwt');
    const publicKey = createPublicKey({ key: rs256, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    await app.register(fastifyJwt, {
      secret: { public: publicKey },
      verify: { allowedIss: issuer, allowedAud: projectId, algorithms: ['RS256'] },
    });
    onRequest = (req) => req.jwtVerify();
    subjectOf = (req) => req.user.sub;
  } else if (kind === 'floor') {
    const check = createFloor();
    onRequest = (req, reply, done) => {
      req.claims = check(req.headers.authorization);
      if (req.claims !== null) done();
      else reply.code(401).header('WWW-Authenticate', 'Bearer realm="api"').send(refusal);
    };
    subjectOf = (req) => req.claims.sub;
  } else if (kind === 'hook') {
    onRequest = (req, reply, done) => {
      req.claims = constantCaller;
      done();
    };
    subjectOf = (req) => req.claims.sub;
  } else if (kind === 'refuse') {
    app.setErrorHandler((error, req, reply) =>
      reply.code(error.status).headers(error.headers).send(error.body),
    );
    onRequest = (req, reply, done) => done(prebuilt);
    subjectOf = () => subject;
  }
  if (onRequest === undefined) app.get('/hello', async () => ({ ...body, sub: subject }));
  else app.get('/hello', { onRequest }, async (req) => ({ ...body, sub: subjectOf(req) }));
  return async (port) => {
    await app.listen({ port, host: '127.0.0.1' });
    return app.server.address().port;
  };
}

const factories = { express: expressApp, koa: koaApp, fastify: fastifyApp };
const listen = await factories[framework]();
const port = await listen(0);
process.stdout.write(`listening ${port}\n`);
