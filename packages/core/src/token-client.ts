/**
 * `@zitauth/core/token-client`: the token client and userinfo on their own, so an API
 * that only verifies tokens does not load them (see `token-client/`).
 */
export * from './token-client/index.js';
