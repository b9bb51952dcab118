// Fastify 5, ESM TypeScript (nodenext, strict).
import Fastify from 'fastify';
import { zitauth, ZitauthConfigError } from '@zitauth/fastify';
import { startTestIdp } from '@zitauth/testing';
import { probe } from './probe.js';

const idp = await startTestIdp();
const app = Fastify();
await app.register(zitauth, { issuer: idp.issuer, projectId: idp.defaultProject.id });
app.get('/me', { onRequest: app.authenticate }, async (request) => ({
  subject: request.auth?.subject,
}));
app.get(
  '/admin',
  { onRequest: app.authenticate, preHandler: app.requireRoles('admin') },
  async (request) => ({ admin: request.auth?.subject }),
);
const base = await app.listen({ port: 0, host: '127.0.0.1' });

// app.authenticate read before the plugin loaded is undefined: start-up must fail, even
// without zitauth's error handler (the package sees the app from its creation).
const early = Fastify();
void early.register(zitauth, {
  issuer: idp.issuer,
  projectId: idp.defaultProject.id,
  errorHandler: false,
});
early.get('/open', { onRequest: early.authenticate }, async () => 'open');
const refused = await early.ready().then(
  () => false,
  (error: unknown) => error instanceof ZitauthConfigError,
);
await early.close();
if (!refused) throw new Error('a route whose hook was undefined started');

console.log(JSON.stringify(await probe(base, idp)));
await app.close();
await idp.close();
