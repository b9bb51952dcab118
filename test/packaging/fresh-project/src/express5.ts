// Express 5, ESM TypeScript compiled with module nodenext and strict settings.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auth, errorHandler, getAuth, requireRoles } from '@zitauth/express';
import { startTestIdp } from '@zitauth/testing';
import { probe } from './probe.js';

const idp = await startTestIdp();
const app = express();
const authMiddleware = auth({ issuer: idp.issuer, projectId: idp.defaultProject.id });
app.use(authMiddleware);
app.get('/me', (req, res) => {
  res.json({ subject: getAuth(req).subject });
});
app.get('/admin', requireRoles('admin'), (req, res) => {
  res.json({ admin: req.auth?.subject });
});
app.use(errorHandler());
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;
console.log(JSON.stringify(await probe(`http://127.0.0.1:${port}`, idp)));
server.close();
authMiddleware.verifier.close();
await idp.close();
