/**
 * Runs the quote API on Fastify. With ZITADEL_ISSUER set it trusts that ZITADEL instance
 * (see the quote examples' shared `config.ts` for the variables); without it, it starts a
 * local test IdP in-process and prints test tokens, so it runs with no account anywhere.
 *
 *   npm run build && node examples/fastify-quotes/dist/server.js
 */
import { runExample } from '@zitauth/example-quotes-common';
import { createApp } from './app.js';

runExample('fastify-quotes', async (verifier, port) => {
  const app = await createApp({ auth: { verifier } });
  // 127.0.0.1 only: an example, and a test IdP's tokens must never guard anything on the network.
  const url = await app.listen({ port, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
