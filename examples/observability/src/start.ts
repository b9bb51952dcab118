/**
 * Starting the observed API in the order that matters: subscribe first, so the start-up
 * check's own IdP calls are measured and traced too; then the verifier and its start-up
 * check, which stops the start with what to fix; then listen.
 */
import type { Tracer } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { createVerifier, type VerifierOptions, type ZitauthVerifier } from '@zitauth/core';
import { listen } from '@zitauth/example-quotes-common';
import { createApp } from './app.js';
import { instrumentZitauth, type ZitauthMetrics } from './metrics.js';
import { traceIdpCalls } from './tracing.js';

export interface StartOptions {
  /** The ZITADEL instance to trust (issuer, project, introspection credentials). */
  verifierOptions: VerifierOptions;
  /** Where spans of IdP calls go. */
  tracer: Tracer;
  /** 127.0.0.1 port; 0 picks a free one. @default 0 */
  port?: number;
  /** The registry `/metrics` serves. @default a new one */
  registry?: Registry;
}

export interface ObservedApi {
  readonly url: string;
  readonly verifier: ZitauthVerifier;
  readonly metrics: ZitauthMetrics;
  /** Stops listening, closes the verifier and unsubscribes. */
  close(): Promise<void>;
}

export async function startObservedApi(options: StartOptions): Promise<ObservedApi> {
  const registry = options.registry ?? new Registry();
  const metrics = instrumentZitauth(registry);
  const stopTracing = traceIdpCalls(options.tracer);
  const verifier = createVerifier(options.verifierOptions);
  const unsubscribe = (): void => {
    verifier.close();
    metrics.stop();
    stopTracing();
  };
  try {
    await verifier.ready();
  } catch (error) {
    unsubscribe();
    throw error;
  }
  const listening = await listen(createApp({ verifier, registry }), options.port ?? 0);
  return {
    url: listening.url,
    verifier,
    metrics,
    close: async () => {
      await listening.close();
      unsubscribe();
    },
  };
}
