/**
 * What the plugin accepts: verifier options, or a verifier built elsewhere so one
 * verifier (one key set, one cache) can serve several apps. The verifier is built here,
 * once, at registration, so a configuration mistake fails `register`, not a request.
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
   * Make `app.authenticate` refuse requests that send no token (401). With `false` they
   * continue with `request.auth = null`; a token that is sent and bad is still refused.
   * @default true
   */
  authRequired?: boolean;
  /**
   * Install zitauth's error handler on the scope the plugin is registered in (the root,
   * usually). It answers zitauth errors as JSON and hands every other error to the
   * handler that was there before. Set `false` to render them yourself. @default true
   */
  errorHandler?: boolean;
}

/** Verifier options (see @zitauth/core), or `{ verifier }` to share one verifier. */
export type AuthOptions = (VerifierOptions | { verifier: Verifier }) & AdapterOptions;

/** A verifier and how to use it. */
export interface ResolvedAuth {
  verifier: Verifier;
  required: boolean;
  renderErrors: boolean;
  /** True when the plugin built the verifier, and so must close it. */
  owned: boolean;
  /** The configured realm, when known, so guards answer with the same challenge. */
  realm: string | undefined;
}

function isVerifier(value: object): value is Verifier {
  return typeof (value as Partial<Verifier>).authenticate === 'function';
}

function flag(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ZitauthConfigError(`zitauth: ${name} must be true or false`);
  }
  return value ?? true;
}

/** Builds (or takes) the verifier; throws `ZitauthConfigError` on a bad option. */
export function resolveAuth(options: AuthOptions | Verifier): ResolvedAuth {
  if (typeof options !== 'object' || options === null) {
    throw new ZitauthConfigError('zitauth: the plugin needs verifier options or a verifier');
  }
  if (isVerifier(options)) {
    return {
      verifier: options,
      required: true,
      renderErrors: true,
      owned: false,
      realm: undefined,
    };
  }
  const { authRequired, errorHandler, ...rest } = options;
  const settings = {
    required: flag(authRequired, 'authRequired'),
    renderErrors: flag(errorHandler, 'errorHandler'),
  };
  if ('verifier' in rest) {
    if (typeof rest.verifier !== 'object' || rest.verifier === null || !isVerifier(rest.verifier)) {
      throw new ZitauthConfigError('zitauth: verifier must come from createVerifier()');
    }
    return { verifier: rest.verifier, ...settings, owned: false, realm: undefined };
  }
  return { verifier: createVerifier(rest), ...settings, owned: true, realm: rest.realm };
}
