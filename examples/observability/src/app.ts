/**
 * The API: one protected route and the `/metrics` endpoint Prometheus scrapes. Nothing in
 * the request path knows about metrics or traces: zitauth publishes its decisions and IdP
 * calls on diagnostics channels, and `metrics.ts` / `tracing.ts` subscribe to them.
 */
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Verifier } from '@zitauth/core';
import { auth, errorHandler, getAuth } from '@zitauth/express';

export interface AppOptions {
  /** The verifier protecting `/quote` (checked with `ready()` before the app listens). */
  verifier: Verifier;
  /** The registry `/metrics` serves. */
  registry: Registry;
}

export function createApp({ verifier, registry }: AppOptions): Express {
  const app = express();
  // Public, as usual for a scrape endpoint reached only from inside the cluster.
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', registry.contentType).send(await registry.metrics());
  });
  app.get('/quote', auth(verifier), (req, res) => {
    res.json({ quote: 'What gets measured gets managed.', for: getAuth(req).subject });
  });
  app.use(errorHandler());
  return app;
}
