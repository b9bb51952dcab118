/**
 * What the plugin accepts: core's adapter options (verifier options or `{ verifier }`,
 * and `authRequired`) plus whether the plugin renders errors itself. The verifier is built
 * at registration, so a configuration mistake fails `register`, not a request.
 */
import {
  booleanOption,
  isVerifier,
  optionKeys,
  resolveAuthOptions,
  type AdapterOptions as CoreAdapterOptions,
  type AuthOptions as CoreAuthOptions,
  type ResolvedAuth,
  type Verifier,
} from '@zitauth/core';

/** Options the plugin reads itself, besides core's `authRequired`. */
export interface FastifyAdapterOptions {
  /**
   * Install zitauth's error handler on the scope the plugin is registered in (the root,
   * usually). It answers zitauth errors as JSON and hands every other error to the
   * handler that was there before. Set `false` to render them yourself. @default true
   */
  errorHandler?: boolean;
  /**
   * Run the verifier's start-up check (`verifier.ready()`) in an `onReady` hook, so
   * `app.ready()` and `app.listen()` reject with a `ZitauthConfigError` naming the fix when
   * the issuer, the introspection credentials or the IdP's reachability are wrong.
   * @default true when the plugin builds the verifier; false for a verifier you pass,
   * which is yours to check (`await verifier.ready()`), as it is yours to close
   */
  checkOnReady?: boolean;
}

const FASTIFY_KEYS = optionKeys<FastifyAdapterOptions>({ errorHandler: true, checkOnReady: true });

/** Every option the plugin reads itself: `authRequired`, `errorHandler` and `checkOnReady`. */
export type AdapterOptions = CoreAdapterOptions & FastifyAdapterOptions;

/** Verifier options (see @zitauth/core) or `{ verifier }`, plus the adapter's options. */
export type AuthOptions = CoreAuthOptions & FastifyAdapterOptions;

/** Core's resolution plus the plugin's own setting. */
export interface PluginSettings extends ResolvedAuth {
  renderErrors: boolean;
  checkOnReady: boolean;
}

/** Builds (or takes) the verifier; throws `ZitauthConfigError` on a bad option. */
export function resolvePluginOptions(options: AuthOptions | Verifier): PluginSettings {
  if (typeof options !== 'object' || options === null || isVerifier(options)) {
    return {
      ...resolveAuthOptions(options, 'the plugin'),
      renderErrors: true,
      checkOnReady: false,
    };
  }
  const renderErrors = booleanOption(options.errorHandler, 'errorHandler', true);
  const resolved = resolveAuthOptions(options, 'the plugin', FASTIFY_KEYS);
  const check = booleanOption(options.checkOnReady, 'checkOnReady', resolved.owned);
  return { ...resolved, renderErrors, checkOnReady: check };
}
