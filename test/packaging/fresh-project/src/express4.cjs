// Express 4 from plain CommonJS JavaScript: require() of the ESM packages (Node ^20.19).
const express = require('express4');
const { auth, errorHandler, requireRoles } = require('@zitauth/express');
const { startTestIdp } = require('@zitauth/testing');
const { probe } = require('../dist/probe.js');

async function main() {
  const idp = await startTestIdp();
  const app = express();
  const authMiddleware = auth({ issuer: idp.issuer, projectId: idp.defaultProject.id });
  app.use(authMiddleware);
  app.get('/me', (req, res) => res.json({ subject: req.auth.subject }));
  app.get('/admin', requireRoles('admin'), (req, res) => res.json({ admin: req.auth.subject }));
  app.use(errorHandler());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  console.log(JSON.stringify(await probe(`http://127.0.0.1:${server.address().port}`, idp)));
  server.close();
  authMiddleware.verifier.close();
  await idp.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
