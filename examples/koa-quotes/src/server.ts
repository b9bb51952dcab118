/**
 * Runs the quote API on Koa. With ZITADEL_ISSUER set it trusts that ZITADEL instance
 * (see the quote examples' shared `config.ts` for the variables); without it, it starts a
 * local test IdP in-process and prints test tokens, so it runs with no account anywhere.
 *
 *   npm run build && node examples/koa-quotes/dist/server.js
 */
import { listen, runExample } from '@zitauth/example-quotes-common';
import { createApp } from './app.js';

runExample('koa-quotes', (verifier, port) =>
  listen(createApp({ auth: { verifier } }).callback(), port),
);
