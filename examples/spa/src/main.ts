/**
 * Runs the demo app: `npm start -w @zitauth/example-spa` (after `npm run build`), then
 * open http://127.0.0.1:3001. Start the gateway (`npm run gateway`) and the quote API
 * first; the gateway prints the command for the quote API when it runs its own test IdP.
 *
 *   PORT             default 3001
 *   GATEWAY_URL      default http://127.0.0.1:8000
 *   QUOTES_API_URL   default http://127.0.0.1:3000
 */
import { createSpaServer } from './server.js';

const port = Number(process.env['PORT'] ?? 3001);
const gatewayUrl = process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8000';
const apiUrl = process.env['QUOTES_API_URL'] ?? 'http://127.0.0.1:3000';

const server = createSpaServer({ gatewayUrl, apiUrl });
server.listen(port, '127.0.0.1', () => {
  console.log(`Demo app on http://127.0.0.1:${port} (gateway ${gatewayUrl}, quote API ${apiUrl})`);
  console.log("Its origin must be in the gateway's GATEWAY_ALLOWED_ORIGINS.");
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close());
}
