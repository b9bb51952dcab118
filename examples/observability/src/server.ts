/**
 * Runs the observed API. With ZITADEL_ISSUER set it trusts that ZITADEL instance (the
 * same variables as the quote examples: ZITADEL_PROJECT_ID, ZITADEL_CLIENT_ID and
 * ZITADEL_CLIENT_SECRET or ZITADEL_KEY_FILE, PORT); without it, it starts a local test IdP
 * in-process and prints a token to try. Spans of IdP calls are printed on the console;
 * in production, register your OpenTelemetry SDK's exporter instead.
 *
 *   npm run build && node examples/observability/dist/server.js
 */
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { onShutdown, readConfig, startLocalIdp } from '@zitauth/example-quotes-common';
import { startObservedApi } from './start.js';
import { exampleTracer } from './tracing.js';

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const local = config.zitadel === undefined ? await startLocalIdp() : undefined;
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
    }),
  );
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const api = await startObservedApi({
    verifierOptions: config.zitadel ?? local!.verifierOptions,
    tracer: exampleTracer(),
    port: config.port,
    registry,
  });
  console.log(`observability example listening on ${api.url}`);
  console.log(`  metrics   curl ${api.url}/metrics`);
  if (local !== undefined) {
    const token = await local.idp.mintAccessToken();
    console.log(`  a caller  curl -H 'Authorization: Bearer ${token}' ${api.url}/quote`);
  }
  console.log('\nCtrl-C to stop.');
  onShutdown(async () => {
    await api.close();
    await local?.idp.close();
  });
}

main().catch((error: unknown) => {
  // A failed start-up check lands here, its message naming what to fix.
  console.error(
    'observability example: could not start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
