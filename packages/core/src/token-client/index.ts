/**
 * The token client: machine-to-machine access tokens and userinfo, loaded only by what
 * imports them (`@zitauth/core/token-client`). `client.ts` keeps one token fresh;
 * `token-client-options.ts` checks its options, `token-grant.ts` is one token request
 * and its response, `token-scopes.ts` builds ZITADEL's scopes, `dpop-client.ts` signs
 * DPoP proofs, and `userinfo.ts` is the OpenID Connect userinfo call.
 */
export * from './client.js';
