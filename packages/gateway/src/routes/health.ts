/**
 * Health for orchestrators. `/healthz` (liveness) only says the process serves requests:
 * restarting the gateway would not fix an IdP outage. `/readyz` (readiness) asks the IdP,
 * fresh rather than from a cache, for its discovery document (issuer must match) and
 * key set, so a load balancer stops sending logins to a gateway that cannot complete
 * them. The result is reused for a short time so probes cannot hammer the IdP.
 */
import type { FastifyInstance } from 'fastify';
import type { FetchLike } from '@zitauth/core';
import type { GatewayContext } from '../context.js';

async function getJson(url: string, fetchImpl: FetchLike, timeoutMs: number): Promise<unknown> {
  const response = await fetchImpl(url, {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/** True when the IdP answers with the expected discovery document and a key set. */
export async function probeIdp(
  issuer: string,
  fetchImpl: FetchLike,
  timeoutMs: number,
): Promise<boolean> {
  try {
    const document = (await getJson(
      `${issuer}/.well-known/openid-configuration`,
      fetchImpl,
      timeoutMs,
    )) as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (document?.issuer !== issuer || typeof document.jwks_uri !== 'string') return false;
    const keys = (await getJson(document.jwks_uri, fetchImpl, timeoutMs)) as {
      keys?: unknown;
    } | null;
    return Array.isArray(keys?.keys);
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
