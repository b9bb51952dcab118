/**
 * Serves the API's protected resource metadata (RFC 9728) at its well-known path, the
 * document a client without a token reads to learn which authorization server to ask.
 * It must answer without a token, so it is a middleware of its own, mounted at the app's
 * root before (or apart from) `auth()`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isVerifier, ZitauthConfigError, type Verifier } from '@zitauth/core';

/**
 * Answers `GET` and `HEAD` of the verifier's metadata path (e.g.
 * `/.well-known/oauth-protected-resource/v1`) with the JSON document; every other request
 * goes on. Takes a verifier or the middleware `auth()` returned; throws
 * `ZitauthConfigError` now when it has no `protectedResource`.
 */
export function resourceMetadata(source: Verifier | { verifier: Verifier }): RequestHandler {
  const verifier = isVerifier(source) ? source : source?.verifier;
  const resource = isVerifier(verifier) ? verifier.protectedResource : undefined;
  if (resource === undefined) {
    throw new ZitauthConfigError(
      'zitauth: resourceMetadata() needs a verifier configured with protectedResource: { resource }',
    );
  }
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path !== resource.metadataPath || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    resource.response().then(({ body, headers }) => {
      // Node's own writeHead: Express's res.set would append a charset to the JSON type.
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    }, next);
  };
}
