/**
 * zitauth's IdP calls as OpenTelemetry spans, with the OpenTelemetry API only: zitauth
 * wraps every call to the IdP (discovery, keys, introspection, token, userinfo) in the
 * `zitauth:idp` TracingChannel, and this file opens a client span when a call starts and
 * ends it when the answer is processed. The span starts in the caller's context, so with
 * a context manager (any OpenTelemetry Node SDK) it is a child of the request's span.
 * Which SDK exports the spans is the application's choice (see `server.ts`).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { CHANNELS, type IdpCallMessage } from '@zitauth/core';

/** Starts tracing IdP calls with `tracer`; returns the function that stops it. */
export function traceIdpCalls(tracer: Tracer): () => void {
  const spans = new WeakMap<IdpCallMessage, Span>();
  const channel = tracingChannel<unknown, IdpCallMessage>(CHANNELS.idpCall);
  const subscribers = {
    start(call: IdpCallMessage) {
      const span = tracer.startSpan(
        `zitauth ${call.endpoint}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { 'zitauth.idp.endpoint': call.endpoint, 'url.full': call.url },
        },
        context.active(),
      );
      spans.set(call, span);
    },
    end() {},
    asyncStart() {},
    error() {},
    // After every call, answered or failed: status and error code are set by now.
    asyncEnd(call: IdpCallMessage) {
      const span = spans.get(call);
      if (span === undefined) return;
      if (call.status !== undefined) span.setAttribute('http.response.status_code', call.status);
      if (call.errorCode !== undefined) {
        span.setAttribute('error.type', call.errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: call.errorCode });
      }
      span.end();
    },
  };
  channel.subscribe(subscribers);
  return () => channel.unsubscribe(subscribers);
}

/** The global tracer of this example, for apps that set a global tracer provider. */
export function exampleTracer(): Tracer {
  return trace.getTracer('zitauth-example-observability');
}
