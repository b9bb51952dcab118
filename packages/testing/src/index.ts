/**
 * @zitauth/testing: a local, ZITADEL-compatible identity provider for tests. Start it with
 * `startTestIdp()`, create users, apps and service users, mint tokens with chosen roles,
 * and point the code under test at `idp.issuer`; no ZITADEL account is needed.
 */
export { startTestIdp } from './idp.js';
export type * from './types.js';
