/**
 * Runs the quote API on Express. With ZITADEL_ISSUER set it trusts that ZITADEL instance
 * (see the quote examples' shared `config.ts` for the variables); without it, it starts a
 * local test IdP in-process and prints test tokens, so it runs with no account anywhere.
 *
 *   npm run build && node examples/express-quotes/dist/server.js
 */
import { listen, runExample } from '@zitauth/example-quotes-common';
import { createApp } from './app.js';

runExample('express-quotes', (verifier, port) => listen(createApp({ auth: { verifier } }), port));
