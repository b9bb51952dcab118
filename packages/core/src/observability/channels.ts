/**
 * The names and message shapes of zitauth's `node:diagnostics_channel` events. They are
 * public API: a metrics library, a tracer or a log shipper subscribes by name with no
 * dependency on zitauth, and the shapes below are what it receives. Nothing published
 * holds a token, a secret or a full claim set; who the caller is (subject, client id)
 * is only computed when a subscriber reads it.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ZitauthErrorCode } from '../errors.js';

/** Every channel zitauth publishes on. */
export const CHANNELS = Object.freeze({
  /** A token was accepted: {@link VerifiedMessage}. */
  verified: 'zitauth:verified',
  /** A request was refused (400, 401 or 503), except inactive tokens: {@link RefusedMessage}. */
  refused: 'zitauth:refused',
  /** The IdP said the token is not active (revoked, expired there): {@link RefusedMessage}. */
  inactive: 'zitauth:inactive',
  /** A verification result was served from the cache: {@link CacheMessage}. */
  cacheHit: 'zitauth:cache:hit',
  /** No cached result: the token is checked now: {@link CacheMessage}. */
  cacheMiss: 'zitauth:cache:miss',
  /** Something the operator must fix (configuration, credentials, the IdP): `OperatorFault`. */
  operatorFault: 'zitauth:operator-fault',
  /**
   * A `TracingChannel` around every IdP call: subscribe with
   * `diagnostics_channel.tracingChannel('zitauth:idp')` (channels `tracing:zitauth:idp:start`,
   * `…:asyncEnd`, `…:error`, …). Messages: {@link IdpCallMessage}.
   */
  idpCall: 'zitauth:idp',
} as const);

/** An accepted token. `subject` and `clientId` are getters, computed only when read. */
export interface VerifiedMessage {
  /** The issuer the verifier trusts. */
  readonly issuer: string;
  /** How the token was checked: signature (`jwt`) or introspection (`opaque`). */
  readonly tokenKind: 'jwt' | 'opaque';
  /** `sub` of the token: personal data, so not an own (enumerable) property. */
  readonly subject: string;
  /** `client_id`/`azp` of the token, if any; not an own property either. */
  readonly clientId: string | undefined;
}

/** A refused request: why, by stable code, and the status it answered with. */
export interface RefusedMessage {
  /** The issuer the verifier trusts. */
  readonly issuer: string;
  /** The stable error code, e.g. `ERR_ZITAUTH_TOKEN_EXPIRED`. */
  readonly code: ZitauthErrorCode;
  /** The HTTP status: 400, 401 or 503. */
  readonly status: number;
  /**
   * For the operator: what lies behind the code, when zitauth knows more than the code
   * says (e.g. that opaque tokens need introspection credentials). Computed when read.
   */
  readonly reason: string | undefined;
}

/** A cache look-up of one token (keyed by its hash; the token itself is never published). */
export interface CacheMessage {
  readonly issuer: string;
}

/** Which IdP endpoint a call went to. */
export type IdpEndpoint = 'discovery' | 'keys' | 'introspection' | 'token' | 'userinfo';

/**
 * The context object of one IdP call on the `zitauth:idp` tracing channel. Fields are
 * filled as the call goes: `status`, `durationMs` and `errorCode` are set before the
 * `asyncEnd` event. On failure Node adds `error` (a zitauth error; never a response body).
 */
export interface IdpCallMessage {
  /** Which endpoint was called. */
  readonly endpoint: IdpEndpoint;
  /** The URL called (an IdP endpoint; tokens and credentials never travel in it). */
  readonly url: string;
  /** The HTTP status of the answer; undefined when none came (network error, timeout). */
  status: number | undefined;
  /** Time from the request to the processed answer, in milliseconds. */
  durationMs: number | undefined;
  /** The zitauth error code when the call failed, e.g. `ERR_ZITAUTH_UPSTREAM_TIMEOUT`. */
  errorCode: ZitauthErrorCode | undefined;
  /** Set by Node's `TracingChannel` when the call failed. */
  error?: unknown;
}

export const verifiedChannel = diagnostics.channel(CHANNELS.verified);
export const refusedChannel = diagnostics.channel(CHANNELS.refused);
export const inactiveChannel = diagnostics.channel(CHANNELS.inactive);
export const cacheHitChannel = diagnostics.channel(CHANNELS.cacheHit);
export const cacheMissChannel = diagnostics.channel(CHANNELS.cacheMiss);
export const operatorFaultChannel = diagnostics.channel(CHANNELS.operatorFault);
export const idpCallChannel = diagnostics.tracingChannel<unknown, IdpCallMessage>(CHANNELS.idpCall);
