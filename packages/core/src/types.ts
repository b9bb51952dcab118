/**
 * The public shapes of core: verifier options, the request shape adapters map to, and
 * the normalized `AuthContext`. Wire types keep wire names (`client_id`, `exp`);
 * normalized types are camelCase. Durations are in milliseconds unless they mirror a
 * JWT claim (seconds).
 */
import type { CacheStore } from './verification/cache.js';
import type { DpopChallenge } from './errors.js';
import type { NonceOptions } from './verification/dpop-nonce.js';
import type { FetchLike } from './idp/http.js';
import type { KeyFileInput } from './idp/key-file.js';
import type {
  ProtectedResource,
  ProtectedResourceOptions,
} from './adapter-kit/resource-metadata.js';

/** ZITADEL's role shape: `{ roleKey: { orgId: orgPrimaryDomain } }`. */
export type Roles = Record<string, Record<string, string>>;

/** Claims of a verified token (JWT payload or active introspection response). */
export type TokenClaims = Readonly<Record<string, unknown>>;

/** The verified caller, the same for JWT and opaque tokens and in every adapter. */
export interface AuthContext {
  /** `sub`: the user or service user id. */
  readonly subject: string;
  /** `client_id` (or `azp`) of the client the token was issued to, if known. */
  readonly clientId: string | undefined;
  /** The user's organisation (`urn:zitadel:iam:user:resourceowner:id`), if present. */
  readonly orgId: string | undefined;
  /** Granted scopes (`scope` split on spaces, or an `scp` array). */
  readonly scopes: readonly string[];
  /** Project roles: `{ roleKey: { orgId: orgDomain } }`. Empty when none were asserted. */
  readonly roles: Readonly<Roles>;
  /** `iss`. */
  readonly issuer: string;
  /** `aud`, always as an array. */
  readonly audience: readonly string[];
  /** `exp` as a Date. */
  readonly expiresAt: Date;
  /** `iat` as a Date, if present. */
  readonly issuedAt: Date | undefined;
  /** `jti`, if present. */
  readonly tokenId: string | undefined;
  /** The token's form: a JWT (verified locally, and introspected if asked) or an opaque token. */
  readonly tokenKind: 'jwt' | 'opaque';
  /** Every claim as received. */
  readonly claims: TokenClaims;
}

/** Client authentication for the introspection endpoint. */
export type IntrospectionAuth =
  | {
      /** `client_secret_basic`: the API application's client id. */
      clientId: string;
      /** The API application's client secret. */
      clientSecret: string;
    }
  | {
      /** `private_key_jwt`: an application key file (path, JSON text or parsed object). */
      keyFile: KeyFileInput;
    };

/** How tokens may be sent. Only the header is on by default (RFC 6750 §2.1). */
export interface TokenTransport {
  /** Accept `?access_token=` (RFC 6750 §2.3; leaks into logs, avoid). @default false */
  query?: boolean;
  /** Accept an `access_token` form body field (RFC 6750 §2.2). @default false */
  body?: boolean;
}

/** Options of `createVerifier`. Only `issuer` and an audience are required. */
export interface VerifierOptions {
  /** The IdP's issuer URL, exactly as in its discovery document, e.g. `https://acme.zitadel.cloud`. */
  issuer: string;
  /** The ZITADEL project id: the audience tokens must carry, and the project of the roles claim. */
  projectId?: string;
  /** Accepted audiences (any one must be in `aud`); defaults to `[projectId]`. */
  audience?: string | readonly string[];
  /** When set, only tokens issued to these client ids (`client_id`/`azp`) are accepted. */
  allowedClientIds?: readonly string[];
  /** `'auto'`: JWTs verified locally, other tokens introspected. @default 'auto' */
  mode?: 'auto' | 'jwt' | 'introspect';
  /** Introspect JWTs too, so revocation is seen (needs `introspection`). @default false */
  introspectJwt?: boolean;
  /**
   * Credentials for the introspection endpoint. Required for `mode: 'introspect'` and
   * `introspectJwt`; without them, `'auto'` refuses opaque tokens.
   */
  introspection?: IntrospectionAuth;
  /** Accepted JWS algorithms; asymmetric only. @default ['RS256','RS384','RS512','PS256','PS384','PS512','ES256','ES384','ES512','EdDSA'] */
  algorithms?: readonly string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in milliseconds. @default 5000 */
  clockToleranceMs?: number;
  /** Reject tokens whose `iat` is older than this, in milliseconds. @default undefined (no limit) */
  maxTokenAgeMs?: number;
  /**
   * Longest accepted token lifetime: `exp` minus `iat` (minus now when `iat` is absent), in
   * milliseconds. Refuses tokens that practically never expire (`exp` in milliseconds, or
   * `1e20`). ZITADEL's longest access token setting fits well below the default.
   * @default 86400000 (24 h)
   */
  maxTokenLifetimeMs?: number;
  /**
   * Claims a JWT access token must carry. ZITADEL always sends `iat` and `client_id`;
   * providers whose access tokens lack `client_id` (Auth0's default profile, Entra ID,
   * Okta, Keycloak) need `['iat']`, and `[]` requires none.
   * @default ['iat', 'client_id']
   */
  requiredClaims?: readonly string[];
  /** Largest accepted token, in bytes; larger ones are refused before decoding. @default 8192 */
  maxTokenBytes?: number;
  /**
   * Refuse a JWT without `jti` as an ID token. ZITADEL access tokens always carry `jti` and
   * its ID tokens never do; set false for providers whose access tokens have none (Auth0's
   * default profile, Entra ID). `nonce`, `at_hash` and `c_hash` still mark ID tokens.
   * @default true
   */
  requireJti?: boolean;
  /**
   * Require RFC 9068 JWT access tokens (`typ: at+jwt`, `client_id`, `jti`). ZITADEL signs
   * `typ: JWT`, so leave this off for ZITADEL. @default false
   */
  strictJwtProfile?: boolean;
  /**
   * Where roles come from. Default: ZITADEL's project-specific claim, then the generic one,
   * read strictly as `{ role: { orgId: domain } }` (any other shape grants nothing). For
   * other providers give a claim name, whose value may also be a string array
   * (`["admin"]`: roles held in no particular organisation), or a function.
   */
  roles?: string | ((claims: TokenClaims) => Roles);
  /** Transports besides the `Authorization` header. */
  tokenTransport?: TokenTransport;
  /** Realm of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string;
  /**
   * Protected resource metadata (RFC 9728): the API's resource identifier and what clients
   * may learn about it. Adapters then serve the document at its well-known path, and every
   * challenge names it in `resource_metadata`. @default off
   */
  protectedResource?: ProtectedResourceOptions;
  /** Cache settings. */
  cache?: CacheOptions;
  /** Key set (JWKS) settings. */
  jwks?: JwksOptions;
  /** Skip discovery for these endpoints (they must still belong to your IdP). */
  endpoints?: { jwksUri?: string; introspectionEndpoint?: string };
  /**
   * Origins besides the issuer's that discovered endpoints may be on. By default the key
   * set and introspection endpoint must be https on the issuer's own origin (http on
   * loopback), so a tampered discovery document cannot send credentials elsewhere.
   * Google, for one, serves its key set from `https://www.googleapis.com`.
   * @default [] (the issuer's origin only)
   */
  endpointOrigins?: readonly string[];
  /**
   * After `failureThreshold` consecutive introspection failures, answer 503 at once for
   * `coolOffMs`, then let one probe call through. @default { failureThreshold: 5, coolOffMs: 10000 }
   */
  circuitBreaker?: { failureThreshold?: number; coolOffMs?: number };
  /** Time limit of one IdP call, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** The fetch implementation for every IdP call. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Accept an `http://` issuer that is not loopback (e.g. a private network). @default false */
  allowInsecureHttp?: boolean;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
  /**
   * DPoP-bound access tokens (RFC 9449). `'off'`: only bearer tokens; a token bound to a
   * key (`cnf`) is refused, as its binding cannot be checked. `'allowed'`: bearer tokens,
   * and bound tokens sent as `Authorization: DPoP` with a valid proof. `'required'`: only
   * bound tokens with a proof. A bound token sent as `Bearer` is always refused.
   * @default 'off'
   */
  dpop?: 'off' | 'allowed' | 'required' | DpopOptions;
}

/** A store that remembers used DPoP proof ids across a fleet (e.g. `createRedisKeyValueStore`). */
export interface DpopReplayStore {
  /**
   * Stores `key` for `ttlMs` milliseconds unless it is present, atomically across
   * instances; true when stored (the proof is new). A rejection refuses the request (503).
   */
  setIfAbsent(key: string, value: true, ttlMs: number): boolean | Promise<boolean>;
}

/** DPoP settings beyond the mode. */
export interface DpopOptions {
  mode: 'off' | 'allowed' | 'required';
  /** Accepted proof algorithms; asymmetric only. @default every asymmetric JWS algorithm */
  algorithms?: readonly string[];
  /**
   * Oldest accepted proof, by its `iat`, in milliseconds (plus `clockToleranceMs` either
   * way). Proof ids are remembered this long. @default 60000
   */
  proofMaxAgeMs?: number;
  /**
   * The URL clients call this API at (origin and an optional path prefix, e.g.
   * `https://api.example.com` or `https://example.com/api`), against which a proof's `htu`
   * is checked with the request's path. Set it behind a TLS-terminating proxy or a path
   * rewrite; without it the URL is the connection's scheme, the `Host` header and the path.
   * @default undefined (from the request)
   */
  externalUrl?: string;
  /**
   * Where used proof ids are remembered. Each instance of a fleet behind a load balancer
   * needs the same store, or a proof could be replayed against another instance.
   * @default an in-process LRU of 100000 ids
   */
  replayStore?: DpopReplayStore;
  /**
   * Require server nonces (RFC 9449 §9): a proof must carry the current nonce, which a
   * `use_dpop_nonce` refusal hands out in its `DPoP-Nonce` header. @default false
   */
  nonce?: boolean | NonceOptions;
}

/** Cache settings of a verifier. */
export interface CacheOptions {
  /** Where results are kept. @default an in-process LRU of `maxEntries` entries */
  store?: CacheStore<CachedResult>;
  /** Entries of the default store. @default 10000 */
  maxEntries?: number;
  /**
   * Longest time a verification result is reused, in milliseconds. Never past the token's
   * `exp`; for introspection this bounds how late a revocation is seen. @default 60000
   */
  maxTtlMs?: number;
  /** How long `active: false` is remembered, in milliseconds. @default 5000 */
  inactiveTtlMs?: number;
  /** Introspection calls in flight at once; more wait their turn. @default 64 */
  maxConcurrentIntrospections?: number;
  /**
   * Introspection slots kept for tokens seen active before (their cache entry expired):
   * tokens never seen use the rest and at most half of the queue, so a flood of random
   * tokens is shed while known callers get through. @default a quarter of `maxConcurrentIntrospections`
   */
  reservedIntrospections?: number;
  /** Set to false to cache nothing. @default true */
  enabled?: boolean;
}

/** What the verifier caches per token: the claims, or the fact that it is inactive. */
export type CachedResult =
  { active: true; kind: 'jwt' | 'opaque'; claims: Record<string, unknown> } | { active: false };

/** Key set (JWKS) settings. */
export interface JwksOptions {
  /** Freshness when the IdP sends no `Cache-Control`, in milliseconds. @default 300000 */
  defaultMaxAgeMs?: number;
  /** Shortest freshness honoured even if `Cache-Control` says less, in milliseconds. @default 30000 */
  minMaxAgeMs?: number;
  /** Longest freshness, whatever `Cache-Control` says, in milliseconds. @default 86400000 */
  maxMaxAgeMs?: number;
  /** After a refetch for an unknown `kid`, wait this long before another, in milliseconds. @default 30000 */
  cooldownMs?: number;
  /** How long the last good keys are served while the IdP is down, in milliseconds. @default 43200000 */
  maxStaleMs?: number;
  /** Largest key set body read, in bytes. @default 262144 */
  maxResponseBytes?: number;
}

/** The request shape adapters map to: only what token extraction needs. */
export interface TokenRequest {
  /** Every `Authorization` header value, in order (Node: `req.headersDistinct.authorization`). */
  authorization?: string | readonly string[] | undefined;
  /** The `access_token` query parameter value(s), if any. */
  query?: string | readonly string[] | undefined;
  /** The `access_token` form body field value(s), if any. */
  body?: string | readonly string[] | undefined;
  /**
   * The request's headers (Node's `req.headers`), for a multi-issuer `opaqueIssuer`
   * resolver that routes by host or tenant. Token extraction never reads them.
   */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** Every `DPoP` header value (RFC 9449 proofs), in order. */
  dpop?: string | readonly string[] | undefined;
  /** The request method, e.g. `GET` (a DPoP proof's `htm`). */
  method?: string | undefined;
  /** The request target as received, e.g. `/orders?id=1` (a DPoP proof's `htu` path). */
  path?: string | undefined;
  /** Whether the connection is TLS (the scheme of a DPoP proof's `htu`). */
  secure?: boolean | undefined;
}

/** A configured verifier: build once, use for every request. */
export interface Verifier {
  /** The issuer it trusts. */
  readonly issuer: string;
  /** The realm of its challenges, so guards and adapters answer with the same one. */
  readonly realm: string;
  /** Its protected resource metadata (RFC 9728), when `protectedResource` is configured. */
  readonly protectedResource?: ProtectedResource | undefined;
  /**
   * Its DPoP challenge (RFC 9449 §7.1) when `dpop` is on: the accepted proof `algs`, and
   * whether a `Bearer` challenge is offered beside it. Guards answer with the same.
   */
  readonly dpopChallenge?: Omit<DpopChallenge, 'used'> | undefined;
  /** Verifies one raw token. Rejects with a `ZitauthError`. */
  verify(token: string): Promise<AuthContext>;
  /**
   * Extracts the token from a request and verifies it. With `required: false`, a request
   * without any credentials resolves `null`; a bad token still rejects.
   */
  authenticate(
    request: TokenRequest,
    options?: { required?: boolean },
  ): Promise<AuthContext | null>;
  /**
   * `authenticate` without a promise, for what needs no I/O: the caller of a cached token
   * or of a first-seen JWT whose key is in memory, `null` (no token, not required), or a
   * throw (no token when required, a malformed request, a refusal). `undefined` means the
   * answer needs I/O (keys, introspection, a shared store): call `authenticate`. Optional,
   * so a hand-written verifier need not have it; adapters use it when present (see
   * `authenticateRequest`).
   */
  authenticateSync?(
    request: TokenRequest,
    options?: { required?: boolean },
  ): AuthContext | null | undefined;
  /**
   * The start-up check: resolves once the IdP answers as configured (discovery, key set,
   * and the introspection credentials when configured), else rejects with a
   * `ZitauthConfigError` naming the fix. Optional, so a hand-written verifier need not
   * have it; every verifier zitauth builds has it (see {@link ZitauthVerifier}).
   */
  ready?(): Promise<void>;
  /** Aborts IdP calls in flight and stops timers. */
  close(): void;
}

/** The verifier `createVerifier` builds: a {@link Verifier} whose `ready()` is always there. */
export interface ZitauthVerifier extends Verifier {
  /**
   * The start-up check: call `await verifier.ready()` before serving. It fetches discovery
   * and the key set and, when `introspection` is configured, introspects one made-up token
   * to prove the client credentials. Rejects with a `ZitauthConfigError` whose message
   * names what to fix (both issuer values on a mismatch, refused client credentials, the
   * URL that could not be read) and whose `cause` is the `OperatorFault`.
   */
  ready(): Promise<void>;
}
