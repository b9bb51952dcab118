/**
 * Health for orchestrators. `/healthz` (liveness) only says the process serves requests:
 * restarting the gateway would not fix an IdP outage. `/readyz` (readiness) asks the IdP,
 * fresh rather than from a cache, for its discovery document (issuer must match) and
 * key set, so a load balancer stops sending logins to a gateway that cannot complete
 * them. The result is reused for a short time so probes cannot hammer the IdP.
 */
import type { FastifyInstance } from 'fastify';
import { idpFetch, parseJsonObject, type FetchLike, type HttpOptions } from '@zitauth/core';
import type { GatewayContext } from '../context.js';

/** A JSON object from the IdP, with core's timeout, body cap and no redirects. */
async function getJson(url: string, http: HttpOptions): Promise<Record<string, unknown>> {
  const response = await idpFetch(url, { headers: { accept: 'application/json' } }, http);
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return parseJsonObject(response.body);
}

/** True when the IdP answers with the expected discovery document and a key set. */
export async function probeIdp(
  issuer: string,
  fetchImpl: FetchLike,
  timeoutMs: number,
): Promise<boolean> {
  const http: HttpOptions = { fetch: fetchImpl, timeoutMs };
  try {
    const document = await getJson(`${issuer}/.well-known/openid-configuration`, http);
    if (document['issuer'] !== issuer || typeof document['jwks_uri'] !== 'string') return false;
    const keys = await getJson(document['jwks_uri'], http);
    return Array.isArray(keys['keys']);
  } catch {
    return false;
  }
}

/** Registers `/healthz` and `/readyz`. */
export function healthRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { config } = ctx;
  const fetchImpl = config.fetch ?? globalThis.fetch;
  let last: { ready: boolean; at: number } | undefined;
  let pending: Promise<boolean> | undefined;

  async function ready(): Promise<boolean> {
    if (last !== undefined && Date.now() - last.at < config.readinessCacheMs) return last.ready;
    pending ??= probeIdp(config.issuer, fetchImpl, Math.min(config.timeoutMs, 2000)).finally(() => {
      pending = undefined;
    });
    const result = await pending;
    last = { ready: result, at: Date.now() };
    return result;
  }

  app.get('/healthz', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', async (_request, reply) => {
    const isReady = await ready();
    return reply
      .code(isReady ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        status: isReady ? 'ready' : 'unavailable',
        idp: isReady ? 'reachable' : 'unreachable',
      });
  });
}
