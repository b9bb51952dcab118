/**
 * What the three quote API examples share, so each example shows only its framework's
 * code: settings from the environment, the in-memory quote book, the local test IdP with
 * sample callers, a small listen/shutdown helper and the printed curl lines.
 */
export { ConfigError, readConfig, type Config, type Env } from './config.js';
export { listen, onShutdown, type Listening } from './listen.js';
export {
  createSampleCallers,
  startLocalIdp,
  type LocalIdp,
  type SampleCaller,
  type SampleCallers,
} from './local-idp.js';
export {
  createQuoteBook,
  parseQuoteInput,
  type ParsedQuote,
  type Quote,
  type QuoteBook,
  type QuoteBookOptions,
  type QuoteInput,
} from './quotes.js';
export { sampleCommands } from './samples.js';
export { runExample, type Serve, type Served } from './run.js';
