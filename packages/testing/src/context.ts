/**
 * Everything a request handler may touch, in one object: the directory, keys, issued
 * tokens, pending logins, faults and settings. The issuer is only known once the server
 * listens; `startTestIdp` fills it in before the first request can arrive.
 */
import type { FaultRegistry } from './faults.js';
import type { RsaKeyPool } from './key-files.js';
import type { KeyRing } from './keys.js';
import type { LoginStore } from './login-store.js';
import type { RefreshTokenStore } from './refresh-tokens.js';
import type { Store } from './store.js';
import type { TokenStore } from './tokens.js';
import type { Org, Project } from './types.js';

export interface IdpSettings {
  /** Seconds. */
  readonly accessTokenLifetimeSeconds: number;
  readonly keysCacheControl: string;
  /** Put `scope` in JWT access tokens (ZITADEL does not). */
  readonly jwtScopeClaim: boolean;
  /** Refuse audience scopes naming a project this IdP does not know (ZITADEL adds them). */
  readonly rejectUnknownProjectScopes: boolean;
}

export interface IdpContext {
  readonly issuer: string;
  readonly store: Store;
  readonly keys: KeyRing;
  /** RSA keys for application and service-user key files. */
  readonly rsaKeys: RsaKeyPool;
  readonly tokens: TokenStore;
  readonly logins: LoginStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly faults: FaultRegistry;
  readonly settings: IdpSettings;
  readonly defaultOrg: Org;
  readonly defaultProject: Project;
  /** The IdP's own API project: what `urn:zitadel:iam:org:project:id:zitadel:aud` adds to `aud`. */
  readonly zitadelProjectId: string;
  /** Aborted when the IdP closes, so delayed (faulted) answers stop waiting. */
  readonly signal: AbortSignal;
}
