// Koa with @koa/router, ESM TypeScript (nodenext, strict).
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { auth, errorHandler, requireRoles, type AuthState } from '@zitauth/koa';
import { startTestIdp } from '@zitauth/testing';
import { probe } from './probe.js';

const idp = await startTestIdp();
const authMiddleware = auth({ issuer: idp.issuer, projectId: idp.defaultProject.id });
const router = new Router<AuthState>();
router.use(authMiddleware);
router.get('/me', (ctx) => {
  ctx.body = { subject: ctx.state.auth?.subject };
});
router.get('/admin', requireRoles('admin'), (ctx) => {
  ctx.body = { admin: ctx.state.auth?.subject };
});
const app = new Koa<AuthState>().use(errorHandler()).use(router.routes());
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;
console.log(JSON.stringify(await probe(`http://127.0.0.1:${port}`, idp)));
server.close();
authMiddleware.verifier.close();
await idp.close();
