/**
 * Serves the API's protected resource metadata (RFC 9728) at its well-known path, the
 * document a client without a token reads to learn which authorization server to ask.
 * It must answer without a token, so it is a middleware of its own, used before `auth()`.
 */
import type { Middleware } from 'koa';
import { isVerifier, ZitauthConfigError, type Verifier } from '@zitauth/core';

/**
 * Answers `GET` and `HEAD` of the verifier's metadata path (e.g.
 * `/.well-known/oauth-protected-resource/v1`) with the JSON document; every other request
 * goes on. Takes a verifier or the middleware `auth()` returned; throws
 * `ZitauthConfigError` now when it has no `protectedResource`.
 */
export function resourceMetadata(source: Verifier | { verifier: Verifier }): Middleware {
  const verifier = isVerifier(source) ? source : source?.verifier;
  const resource = isVerifier(verifier) ? verifier.protectedResource : undefined;
  if (resource === undefined) {
    throw new ZitauthConfigError(
      'zitauth: resourceMetadata() needs a verifier configured with protectedResource: { resource }',
    );
  }
  return async (ctx, next) => {
    if (ctx.path !== resource.metadataPath || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    const { body, headers } = await resource.response();
    ctx.status = 200;
    // Set before the body, so Koa keeps this exact type (no charset added).
    ctx.set(headers);
    ctx.body = body;
  };
}
