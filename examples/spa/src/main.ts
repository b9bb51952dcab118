/**
 * Runs the demo app: `npm start -w @zitauth/example-spa` (after `npm run build`), then
 * open http://127.0.0.1:3001. Start the gateway (`npm run gateway`) with the quote API as
 * its upstream first; the gateway prints the command for the quote API when it runs its
 * own test IdP.
 *
 *   PORT              default 3001
 *   GATEWAY_URL       default http://127.0.0.1:8000 (the gateway's own origin), or a
 *                     path such as /auth with GATEWAY_UPSTREAM (the gateway on this origin)
 *   GATEWAY_UPSTREAM  where /auth/* is forwarded to, e.g. http://127.0.0.1:8000
 */
import { createSpaServer } from './server.js';

const port = Number(process.env['PORT'] ?? 3001);
const gatewayUrl = process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8000';
const gatewayUpstream = process.env['GATEWAY_UPSTREAM'];

const server = createSpaServer({ gatewayUrl, gatewayUpstream });
server.listen(port, '127.0.0.1', () => {
  console.log(`Demo app on http://127.0.0.1:${port} (gateway ${gatewayUrl})`);
  console.log("Its origin must be in the gateway's GATEWAY_ALLOWED_ORIGINS.");
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close());
}
