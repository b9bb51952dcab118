// The testing IdP in a process of its own, so a benchmark's CPU figures hold only the
// client's work: started with fork(), it answers { mint: n, format } with n fresh tokens
// and sends its issuer, project and an API app's Basic credentials once ready.
import { startTestIdp } from '@zitauth/testing';

const idp = await startTestIdp();
const api = idp.createApiApp({ auth: 'basic' });
process.on('message', async ({ mint, format }) => {
  const tokens = [];
  for (let i = 0; i < mint; i += 1)
    tokens.push(await idp.mintAccessToken({ format, roles: ['reader'] }));
  process.send({ tokens });
});
process.on('disconnect', () => void idp.close());
process.send({
  issuer: idp.issuer,
  projectId: idp.defaultProject.id,
  clientId: api.clientId,
  clientSecret: api.clientSecret,
});
