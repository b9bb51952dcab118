/**
 * The public shapes of @zitauth/testing. They mirror what a ZITADEL instance exposes to a
 * resource server or client (organisations, projects, users, applications, service
 * users), reduced to what tests need. Key files and roles use core's types so a test can
 * hand them straight to a verifier or token client.
 */
import type { ApplicationKeyFile, KeyFile, Roles, ServiceAccountKeyFile } from '@zitauth/core';

export type { ApplicationKeyFile, KeyFile, Roles, ServiceAccountKeyFile };

/** Signing algorithms the IdP can sign tokens with (ZITADEL web keys offer the same set). */
export type SigningAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** The endpoints faults can be injected into and calls are counted for. */
export type Endpoint =
  | 'discovery'
  | 'keys'
  | 'introspect'
  | 'token'
  | 'revoke'
  | 'userinfo'
  | 'authorize'
  | 'end_session';

/** A misbehaviour injected before an endpoint's normal handler. */
export interface Fault {
  /** Wait this long before answering (or before the other fault effects), in milliseconds. */
  latencyMs?: number;
  /** Answer with this HTTP status instead of running the handler. */
  status?: number;
  /** Answer with this body: `'garbage'` (not JSON), `'huge'` (4 MiB of JSON) or literal text. */
  body?: 'garbage' | 'huge' | string;
  /** Destroy the connection without answering. */
  closeConnection?: boolean;
  /** Never answer: hold the request until the client gives up or the IdP closes. */
  hang?: boolean;
  /** Send this `Content-Type` instead of `application/json` (fault or normal answer). */
  contentType?: string;
  /** Remove these top-level fields from the endpoint's normal JSON answer (e.g. `['active']`). */
  omitFields?: readonly string[];
  /** Add or replace these top-level fields in the endpoint's normal JSON answer (e.g. `{ cnf }`). */
  addFields?: Readonly<Record<string, unknown>>;
  /** Apply to this many requests, then clear itself. @default unlimited */
  times?: number;
}

/** Options of `startTestIdp`. */
export interface TestIdpOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Algorithm of the initial signing key. @default 'RS256' */
  algorithm?: SigningAlgorithm;
  /** Lifetime of minted and issued access tokens, in seconds. @default 3600 */
  accessTokenLifetimeSeconds?: number;
  /** `Cache-Control` sent with the key set. @default 'max-age=300, must-revalidate' */
  keysCacheControl?: string;
  /**
   * Put `scope` in JWT access tokens, as other providers (and RFC 9068) do. ZITADEL's JWT
   * access tokens carry none; its introspection answers do. A convenience, not ZITADEL.
   * @default false
   */
  jwtScopeClaim?: boolean;
  /**
   * Refuse (400 `invalid_scope`) an audience scope naming a project this IdP does not know,
   * to catch typos early. ZITADEL adds any id to `aud` unchecked. @default false
   */
  rejectUnknownProjectScopes?: boolean;
  /**
   * A refresh token not used for this long stops working, in seconds (ZITADEL's "refresh
   * token idle expiration"). @default 2592000 (30 days)
   */
  refreshTokenIdleSeconds?: number;
  /**
   * However often it is used, a refresh token chain ends this long after the login, in
   * seconds (ZITADEL's "refresh token expiration"). @default 7776000 (90 days)
   */
  refreshTokenLifetimeSeconds?: number;
}

/** An organisation (ZITADEL "org"): the resource owner of users and role grants. */
export interface Org {
  readonly id: string;
  readonly name: string;
  readonly primaryDomain: string;
}

/** A project: the audience of API tokens and the owner of roles. */
export interface Project {
  readonly id: string;
  readonly name: string;
  readonly roles: string[];
  /** "Assert Roles on Authentication": issued tokens carry roles without the roles scope. */
  readonly roleAssertion: boolean;
  /** The client id minted tokens name by default (`<digits>@<project name>`). */
  readonly clientId: string;
}

/** A human user who can log in with a password. */
export interface User {
  readonly id: string;
  readonly userName: string;
  /** `userName@orgPrimaryDomain`, also accepted on the login page. */
  readonly loginName: string;
  readonly orgId: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  readonly password: string;
  /** Roles granted on `projectId`. */
  readonly roles: Roles;
  readonly projectId: string;
}

/** An API application: a resource server that introspects tokens. */
export interface ApiApp {
  readonly appId: string;
  readonly clientId: string;
  readonly projectId: string;
  readonly auth: 'basic' | 'private_key_jwt';
  /** Set when `auth` is `'basic'`. */
  readonly clientSecret?: string;
  /** Set when `auth` is `'private_key_jwt'`. */
  readonly keyFile?: ApplicationKeyFile;
}

/** A user-agent (browser) application for the authorization code flow with PKCE. */
export interface WebApp {
  readonly appId: string;
  readonly clientId: string;
  readonly projectId: string;
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris: string[];
  readonly accessTokenType: 'jwt' | 'opaque';
}

/** A service user (machine user) with a key, a client secret and a personal access token. */
export interface ServiceUser {
  readonly userId: string;
  readonly userName: string;
  readonly orgId: string;
  readonly keyFile: ServiceAccountKeyFile;
  /**
   * For the client credentials grant: the user name, which is also the `client_id` of the
   * tokens that grant issues. Tokens from the JWT bearer grant name `userId` as `client_id`.
   */
  readonly clientId: string;
  readonly clientSecret: string;
  /** A personal access token: opaque, introspectable, carrying the user's roles. */
  readonly pat: string;
  readonly roles: Roles;
  readonly projectId: string;
  readonly accessTokenType: 'jwt' | 'opaque';
}

/** Options of `createOrg`. */
export interface OrgOptions {
  name?: string;
  primaryDomain?: string;
}

/** Options of `createProject`. */
export interface ProjectOptions {
  name?: string;
  /** @default ['admin', 'editor', 'reader'] */
  roles?: string[];
  /** @default false */
  roleAssertion?: boolean;
}

/** Options of `createUser`. */
export interface UserOptions {
  userName?: string;
  orgId?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  /** @default 'Password1!' */
  password?: string;
  /** A list is granted on `projectId` in the user's org. */
  roles?: string[] | Roles;
  /** @default the default project */
  projectId?: string;
}

/** Options of `createApiApp`. */
export interface ApiAppOptions {
  auth: 'basic' | 'private_key_jwt';
  /** @default the default project */
  projectId?: string;
  /** An explicit client id (e.g. to reproduce a known vector). */
  clientId?: string;
  /** An explicit client secret (`auth: 'basic'` only). */
  clientSecret?: string;
}

/** Options of `createWebApp`. */
export interface WebAppOptions {
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** @default the default project */
  projectId?: string;
  /** @default 'jwt' */
  accessTokenType?: 'jwt' | 'opaque';
}

/** Options of `createServiceUser`. */
export interface ServiceUserOptions {
  userName?: string;
  orgId?: string;
  /** A list is granted on `projectId` in the user's org. */
  roles?: string[] | Roles;
  /** @default the default project */
  projectId?: string;
  /** Format of tokens from the token endpoint. @default 'jwt' */
  accessTokenType?: 'jwt' | 'opaque';
}

/** Options of `mintAccessToken` and `mintIdToken`. */
export interface MintOptions {
  /** @default 'jwt' */
  format?: 'jwt' | 'opaque';
  /** @default a fresh user id */
  subject?: string;
  /** @default the default project's id */
  projectId?: string;
  /**
   * Organisation of roles given as a list, and of the resourceowner claims (emitted only
   * when `scope` holds `urn:zitadel:iam:user:resourceowner`, as in ZITADEL).
   * @default the default org (or the known subject's org)
   */
  orgId?: string;
  /** A list becomes `{ role: { orgId: orgDomain } }`; emitted in both ZITADEL role claims. */
  roles?: string[] | Roles;
  /** @default [projectId, clientId] */
  audience?: string[];
  /** @default the project's client id */
  clientId?: string;
  /**
   * The granted scope: released by introspection (not put in a JWT, as ZITADEL does not),
   * deciding profile claims and, with `urn:zitadel:iam:user:resourceowner`, the
   * organisation claims. @default 'openid profile email'
   */
  scope?: string;
  /** Negative values mint an expired token, in seconds. @default accessTokenLifetimeSeconds */
  expiresInSeconds?: number;
  /** Offset of `nbf` from now, in seconds. @default 0 */
  notBeforeSeconds?: number;
  /** Offset of `iat` from now, in seconds. @default 0 */
  issuedAtSeconds?: number;
  /** Merged last; a value of `undefined` removes that claim. */
  claims?: Record<string, unknown>;
  /** Merged into the JWS header (e.g. `{ typ: 'at+jwt' }`). */
  header?: Record<string, unknown>;
  /** Sign with this listed key. */
  kid?: string;
  /** Sign with a listed key of this algorithm (one is added, inactive, if none is listed). */
  alg?: SigningAlgorithm;
}

/** Options of `mintIdToken`. */
export interface IdTokenOptions extends MintOptions {
  nonce?: string;
  /** The access token `at_hash` is computed from. @default a random value */
  accessToken?: string;
}

/** A listed signing key. */
export interface KeyInfo {
  kid: string;
  alg: SigningAlgorithm;
  /** Whether it signs new tokens (exactly one key does, while any are listed). */
  active: boolean;
}

/** The signing keys of the IdP, as listed in its JWKS. */
export interface TestIdpKeys {
  /** Adds a key that becomes the signing key; older keys stay listed. Resolves its kid. */
  rotate(alg?: SigningAlgorithm): Promise<string>;
  /** Adds a listed key that does not sign (yet). Resolves its kid. */
  add(alg?: SigningAlgorithm): Promise<string>;
  /** Removes a key from the JWKS; removing the signing key makes the newest other key sign. */
  remove(kid: string): void;
  list(): KeyInfo[];
}

/** Fault injection per endpoint. */
export interface TestIdpFaults {
  set(endpoint: Endpoint, fault: Fault): void;
  /** Clears one endpoint's fault, or all of them. */
  clear(endpoint?: Endpoint): void;
}

/** A running local IdP. */
export interface TestIdp {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly issuer: string;
  readonly defaultOrg: Org;
  readonly defaultProject: Project;
  /** The IdP's own API project id: `urn:zitadel:iam:org:project:id:zitadel:aud` puts it in `aud`. */
  readonly zitadelProjectId: string;
  createOrg(options?: OrgOptions): Org;
  createProject(options?: ProjectOptions): Project;
  createUser(options?: UserOptions): User;
  createApiApp(
    options: ApiAppOptions & { auth: 'basic' },
  ): ApiApp & { readonly clientSecret: string };
  createApiApp(
    options: ApiAppOptions & { auth: 'private_key_jwt' },
  ): ApiApp & { readonly keyFile: ApplicationKeyFile };
  createApiApp(options: ApiAppOptions): ApiApp;
  createWebApp(options: WebAppOptions): WebApp;
  createServiceUser(options?: ServiceUserOptions): ServiceUser;
  mintAccessToken(options?: MintOptions): Promise<string>;
  mintIdToken(options?: IdTokenOptions): Promise<string>;
  /** Signs exactly this header and payload with the signing key (or `kid`); `alg: 'none'` leaves it unsigned. */
  signJwt(
    header: Record<string, unknown>,
    payload: Record<string, unknown>,
    options?: { kid?: string },
  ): Promise<string>;
  readonly keys: TestIdpKeys;
  /** Revoked access tokens introspect as inactive (JWT and opaque); revoked refresh tokens stop working. */
  revoke(token: string): void;
  readonly faults: TestIdpFaults;
  /** Requests an endpoint received, faulted ones included. */
  calls(endpoint: Endpoint): number;
  resetCalls(): void;
  /** Writes a key file as JSON into a fresh temp dir (removed on close) or into `dir`; resolves the path. */
  writeKeyFile(keyFile: KeyFile, dir?: string): Promise<string>;
  /** Stops the server, drops every connection and removes temp dirs of written key files. */
  close(): Promise<void>;
}
