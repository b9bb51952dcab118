/**
 * Publishing the verifier's decisions. Each function is one `hasSubscribers` check when
 * nobody listens, so the hot path pays nothing for observability it does not use. The
 * messages are small classes whose personal fields (`subject`, `clientId`) and derived
 * fields (`reason`) are getters over private state: logging a message as a whole (JSON,
 * `console.log`) never prints who the caller is, a subscriber must ask for it.
 */
import type { ZitauthError, ZitauthErrorCode } from '../errors.js';
import type { AuthContext } from '../types.js';
import {
  cacheHitChannel,
  cacheMissChannel,
  inactiveChannel,
  refusedChannel,
  verifiedChannel,
  type CacheMessage,
  type RefusedMessage,
  type VerifiedMessage,
} from './channels.js';
import { describeCause } from './operator-fault.js';

class Verified implements VerifiedMessage {
  readonly #context: AuthContext;
  readonly issuer: string;
  readonly tokenKind: 'jwt' | 'opaque';
  constructor(issuer: string, context: AuthContext) {
    this.issuer = issuer;
    this.tokenKind = context.tokenKind;
    this.#context = context;
  }
  get subject(): string {
    return this.#context.subject;
  }
  get clientId(): string | undefined {
    return this.#context.clientId;
  }
}

class Refused implements RefusedMessage {
  readonly #error: ZitauthError;
  readonly issuer: string;
  readonly code: ZitauthErrorCode;
  readonly status: number;
  constructor(issuer: string, error: ZitauthError) {
    this.issuer = issuer;
    this.code = error.code;
    this.status = error.status;
    this.#error = error;
  }
  get reason(): string | undefined {
    const { cause } = this.#error;
    return cause === undefined ? undefined : describeCause(cause);
  }
}

/** Publishes an accepted token on `zitauth:verified`. */
export function publishVerified(issuer: string, context: AuthContext): void {
  if (verifiedChannel.hasSubscribers) verifiedChannel.publish(new Verified(issuer, context));
}

/** Publishes a refusal on `zitauth:refused`, or on `zitauth:inactive` for an inactive token. */
export function publishRefused(issuer: string, error: ZitauthError): void {
  const channel = error.code === 'ERR_ZITAUTH_TOKEN_INACTIVE' ? inactiveChannel : refusedChannel;
  if (channel.hasSubscribers) channel.publish(new Refused(issuer, error));
}

/** Publishes a cache look-up on `zitauth:cache:hit` or `zitauth:cache:miss`. */
export function publishCacheLookUp(issuer: string, hit: boolean): void {
  const channel = hit ? cacheHitChannel : cacheMissChannel;
  if (channel.hasSubscribers) channel.publish({ issuer } satisfies CacheMessage);
}
