/**
 * What `auth()` accepts: verifier options, or a verifier built elsewhere so one verifier
 * (one key set, one cache) can serve several apps. The verifier is built here, once, so a
 * configuration mistake throws where the middleware is created, not on the first request.
 */
import {
  createVerifier,
  ZitauthConfigError,
  type Verifier,
  type VerifierOptions,
} from '@zitauth/core';

/** Options the adapter reads itself; everything else goes to core's `createVerifier`. */
export interface AdapterOptions {
  /**
   * Refuse requests that send no token (401). With `false` they continue with
   * `auth = null`; a token that is sent and bad is still refused. @default true
   */
  authRequired?: boolean;
}

/** Verifier options (see @zitauth/core), or `{ verifier }` to share one verifier. */
export type AuthOptions = (VerifierOptions | { verifier: Verifier }) & AdapterOptions;

/** A verifier and how to use it. */
export interface ResolvedAuth {
  verifier: Verifier;
  required: boolean;
  /** The configured realm, when known, so guards answer with the same challenge. */
  realm: string | undefined;
}

function isVerifier(value: object): value is Verifier {
  return typeof (value as Partial<Verifier>).authenticate === 'function';
}

/** Builds (or takes) the verifier; throws `ZitauthConfigError` on a bad option. */
export function resolveAuth(options: AuthOptions | Verifier): ResolvedAuth {
  if (typeof options !== 'object' || options === null) {
    throw new ZitauthConfigError('zitauth: auth() needs verifier options or a verifier');
  }
  if (isVerifier(options)) return { verifier: options, required: true, realm: undefined };
  const { authRequired, ...rest } = options;
  if (authRequired !== undefined && typeof authRequired !== 'boolean') {
    throw new ZitauthConfigError('zitauth: authRequired must be true or false');
  }
  const required = authRequired ?? true;
  if ('verifier' in rest) {
    if (typeof rest.verifier !== 'object' || rest.verifier === null || !isVerifier(rest.verifier)) {
      throw new ZitauthConfigError('zitauth: verifier must come from createVerifier()');
    }
    return { verifier: rest.verifier, required, realm: undefined };
  }
  return { verifier: createVerifier(rest), required, realm: rest.realm };
}
