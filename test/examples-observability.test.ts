// The observability example against the real testing IdP, over HTTP: real traffic (a
// valid JWT, the same again from the cache, an opaque token, a revoked one, an expired
// JWT, no token, an opaque token while introspection fails), then `/metrics` scraped over
// HTTP, each counter checked to have moved by exactly what that traffic implies, and the
// IdP calls found as OpenTelemetry spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { startObservedApi, type ObservedApi } from '../examples/observability/src/start.js';

let idp: TestIdp;
let api: ObservedApi;
const spans = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

beforeAll(async () => {
  idp = await startTestIdp();
  const app = idp.createApiApp({ auth: 'basic' });
  api = await startObservedApi({
    verifierOptions: {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { clientId: app.clientId, clientSecret: app.clientSecret },
      // One failed introspection must not open the circuit for the calls after it.
      circuitBreaker: { failureThreshold: 100 },
    },
    tracer: provider.getTracer('test'),
  });
});
afterAll(async () => {
  await api?.close();
  await idp?.close();
  await provider.shutdown();
});

/** One sample of a scrape: a metric name and its labels, as Prometheus writes them. */
type Samples = Map<string, number>;

/** Scrapes `/metrics` over HTTP into `name{label="value",…}` → value. */
async function scrape(): Promise<Samples> {
  const response = await fetch(`${api.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Samples = new Map();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** A sample's value (0 when the series does not exist yet). */
function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const text = Object.entries(labels)
    .map(([key, label]) => `${key}="${label}"`)
    .join(',');
  return samples.get(text === '' ? name : `${name}{${text}}`) ?? 0;
}

async function get(token?: string): Promise<number> {
  const headers: Record<string, string> =
    token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`${api.url}/quote`, { headers });
  await response.arrayBuffer();
  return response.status;
}

describe('the observability example', () => {
  it('counted the start-up check: discovery, keys and one introspection, no decision', async () => {
    const samples = await scrape();
    for (const endpoint of ['discovery', 'keys', 'introspection']) {
      expect(
        value(samples, 'zitauth_idp_call_duration_seconds_count', { endpoint }),
        endpoint,
      ).toBe(1);
    }
    expect(value(samples, 'zitauth_decisions_total', { outcome: 'verified' })).toBe(0);
    expect(value(samples, 'zitauth_cache_hit_ratio')).toBe(0);
  });

  it('moves every counter by exactly what real traffic implies', async () => {
    const before = await scrape();
    spans.reset();

    const jwt = await idp.mintAccessToken();
    const opaque = await idp.mintAccessToken({ format: 'opaque' });
    const revoked = await idp.mintAccessToken({ format: 'opaque' });
    idp.revoke(revoked);
    const expired = await idp.mintAccessToken({ expiresInSeconds: -600 });
    const failing = await idp.mintAccessToken({ format: 'opaque' });

    expect(await get(jwt)).toBe(200); // miss, verified (keys already fetched at start-up)
    expect(await get(jwt)).toBe(200); // hit, verified
    expect(await get(opaque)).toBe(200); // miss, introspection, verified
    expect(await get(opaque)).toBe(200); // hit, verified
    expect(await get(revoked)).toBe(401); // miss, introspection, inactive
    expect(await get(expired)).toBe(401); // miss, refused: expired
    expect(await get()).toBe(401); // refused: no token, no cache look-up
    idp.faults.set('introspect', { status: 500, times: 1 });
    expect(await get(failing)).toBe(503); // miss, failed introspection, refused: upstream

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}): number =>
      value(after, name, labels) - value(before, name, labels);

    expect(moved('zitauth_decisions_total', { outcome: 'verified' })).toBe(4);
    expect(
      moved('zitauth_decisions_total', { outcome: 'inactive', code: 'ERR_ZITAUTH_TOKEN_INACTIVE' }),
    ).toBe(1);
    for (const code of [
      'ERR_ZITAUTH_TOKEN_EXPIRED',
      'ERR_ZITAUTH_NO_TOKEN',
      'ERR_ZITAUTH_UPSTREAM',
    ]) {
      expect(moved('zitauth_decisions_total', { outcome: 'refused', code }), code).toBe(1);
    }
    expect(moved('zitauth_cache_lookups_total', { result: 'hit' })).toBe(2);
    expect(moved('zitauth_cache_lookups_total', { result: 'miss' })).toBe(5);
    expect(value(after, 'zitauth_cache_hit_ratio')).toBeCloseTo(2 / 7, 10);

    expect(moved('zitauth_idp_call_duration_seconds_count', { endpoint: 'introspection' })).toBe(3);
    expect(moved('zitauth_idp_call_duration_seconds_count', { endpoint: 'keys' })).toBe(0);
    expect(moved('zitauth_idp_call_duration_seconds_count', { endpoint: 'discovery' })).toBe(0);
    expect(
      moved('zitauth_idp_call_duration_seconds_sum', { endpoint: 'introspection' }),
    ).toBeGreaterThan(0);
    expect(
      moved('zitauth_idp_call_duration_seconds_bucket', { le: '+Inf', endpoint: 'introspection' }),
    ).toBe(3);
    expect(
      moved('zitauth_idp_call_errors_total', {
        endpoint: 'introspection',
        code: 'ERR_ZITAUTH_UPSTREAM',
      }),
    ).toBe(1);
    expect(moved('zitauth_operator_faults_total', { kind: 'introspection-unreachable' })).toBe(1);
    // The IdP saw exactly the calls the histogram counted.
    expect(idp.calls('introspect')).toBe(1 + 3);
  });

  it('recorded each IdP call of that traffic as a client span, the failed one as an error', () => {
    const recorded = spans.getFinishedSpans();
    expect(recorded.map((span) => span.name)).toEqual([
      'zitauth introspection',
      'zitauth introspection',
      'zitauth introspection',
    ]);
    for (const span of recorded) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes['url.full']).toBe(`${idp.issuer}/oauth/v2/introspect`);
    }
    expect(recorded.map((span) => span.attributes['http.response.status_code'])).toEqual([
      200, 200, 500,
    ]);
    expect(recorded[2]!.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'ERR_ZITAUTH_UPSTREAM',
    });
    expect(recorded[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('traced the start-up check too, so a slow IdP at boot shows up', async () => {
    spans.reset();
    await api.verifier.ready();
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual([
      'zitauth keys',
      'zitauth introspection',
    ]);
  });
});
