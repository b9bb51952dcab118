// One server under test, started as a child process by run.js: `node server.js <scenario>`.
// Every scenario answers GET /hello with the same small JSON body, so the only difference
// between them is the authentication in front of it. Prints `listening <port>` when ready.
import { createPublicKey } from 'node:crypto';

const scenario = process.argv[2];
const issuer = process.env.BENCH_ISSUER;
const projectId = process.env.BENCH_PROJECT_ID;
const body = { hello: 'world' };

async function expressApp(kind) {
  const { default: express } = await import('express');
  const app = express();
  if (kind === 'zitauth' || kind === 'zitauth-nocache') {
    const { auth, errorHandler } = await import('@zitauth/express');
    app.use(auth({ issuer, projectId, cache: { enabled: kind === 'zitauth' } }));
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.auth?.subject }));
    app.use(errorHandler());
  } else if (kind === 'auth0') {
    const { auth } = await import('express-oauth2-jwt-bearer');
    app.use(
      auth({
        issuer,
        jwksUri: `${issuer}/oauth/v2/keys`,
        audience: projectId,
        tokenSigningAlg: 'RS256',
      }),
    );
    app.get('/hello', (req, res) => res.json({ ...body, sub: req.auth?.payload.sub }));
  } else {
    app.get('/hello', (_req, res) => res.json(body));
  }
  return (port) =>
    new Promise((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s.address().port));
    });
}

async function koaApp(kind) {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  if (kind !== 'bare') {
    const { auth, errorHandler } = await import('@zitauth/koa');
    app.use(errorHandler());
    app.use(auth({ issuer, projectId, cache: { enabled: kind === 'zitauth' } }));
  }
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { ...body, sub: ctx.state.auth?.subject };
  });
  return (port) =>
    new Promise((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s.address().port));
    });
}

async function fastifyApp(kind) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (kind === 'zitauth' || kind === 'zitauth-nocache') {
    const { default: zitauth } = await import('@zitauth/fastify');
    await app.register(zitauth, { issuer, projectId, cache: { enabled: kind === 'zitauth' } });
    app.get('/hello', { onRequest: app.authenticate }, async (req) => ({
      ...body,
      sub: req.auth?.subject,
    }));
  } else if (kind === 'fastify-jwt') {
    const { default: fastifyJwt } = await import('@fastify/jwt');
    const jwks = await (await fetch(`${issuer}/oauth/v2/keys`)).json();
    const publicKey = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    await app.register(fastifyJwt, {
      secret: { public: publicKey },
      verify: { allowedIss: issuer, allowedAud: projectId, algorithms: ['RS256'] },
    });
    app.get('/hello', { onRequest: (req) => req.jwtVerify() }, async (req) => ({
      ...body,
      sub: req.user.sub,
    }));
  } else {
    app.get('/hello', async () => body);
  }
  return async (port) => {
    await app.listen({ port, host: '127.0.0.1' });
    return app.server.address().port;
  };
}

const [framework, kind] = scenario.split(':');
const factories = { express: expressApp, koa: koaApp, fastify: fastifyApp };
const listen = await factories[framework](kind);
const port = await listen(0);
process.stdout.write(`listening ${port}\n`);
