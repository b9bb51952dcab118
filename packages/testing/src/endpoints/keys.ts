/**
 * `GET /oauth/v2/keys`: every listed key (signing and inactive), with the configured
 * `Cache-Control`, so verifiers can be tested on how they cache and refetch.
 */
import type { ServerResponse } from 'node:http';
import type { IdpContext } from '../context.js';
import { sendJson } from '../http.js';

export function handleKeys(_req: unknown, res: ServerResponse, ctx: IdpContext): Promise<void> {
  sendJson(res, 200, ctx.keys.jwks(), { 'Cache-Control': ctx.settings.keysCacheControl });
  return Promise.resolve();
}
