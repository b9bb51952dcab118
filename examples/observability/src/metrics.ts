/**
 * zitauth's diagnostics channels as Prometheus metrics, with prom-client. zitauth itself
 * depends on no metrics library: it publishes on `node:diagnostics_channel`, and this file
 * is all it takes to count what it publishes. Labels are bounded sets (outcomes, error
 * codes, endpoint kinds, fault kinds), never a subject or a client id, so the number of
 * series cannot grow with the number of callers.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  CHANNELS,
  type IdpCallMessage,
  type OperatorFault,
  type RefusedMessage,
} from '@zitauth/core';

/** The metrics this module registers, for reading them in code (tests, dashboards). */
export interface ZitauthMetrics {
  decisions: Counter<'outcome' | 'code'>;
  cacheLookUps: Counter<'result'>;
  cacheHitRatio: Gauge;
  idpCallDuration: Histogram<'endpoint'>;
  idpCallErrors: Counter<'endpoint' | 'code'>;
  operatorFaults: Counter<'kind'>;
  /** Unsubscribes from every channel (the metrics stay registered). */
  stop(): void;
}

/** IdP calls take milliseconds on a LAN and up to the verifier's timeout (5 s) when sick. */
const IDP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Registers zitauth's metrics on `registry` and starts counting. */
export function instrumentZitauth(registry: Registry): ZitauthMetrics {
  const registers = [registry];
  const decisions = new Counter({
    name: 'zitauth_decisions_total',
    help: 'Requests zitauth decided: outcome verified, refused or inactive; code of the refusal',
    labelNames: ['outcome', 'code'] as const,
    registers,
  });
  const cacheLookUps = new Counter({
    name: 'zitauth_cache_lookups_total',
    help: 'Verification cache look-ups by result (hit or miss)',
    labelNames: ['result'] as const,
    registers,
  });
  const cacheHitRatio = new Gauge({
    name: 'zitauth_cache_hit_ratio',
    help: 'Share of cache look-ups that were hits since start (0 before any look-up)',
    registers,
    // Computed at scrape time from the two counters, so it never drifts from them.
    async collect() {
      const values = (await cacheLookUps.get()).values;
      const count = (result: string): number =>
        values.find((value) => value.labels['result'] === result)?.value ?? 0;
      const total = count('hit') + count('miss');
      this.set(total === 0 ? 0 : count('hit') / total);
    },
  });
  const idpCallDuration = new Histogram({
    name: 'zitauth_idp_call_duration_seconds',
    help: 'Duration of calls to the IdP by endpoint kind, failed calls included',
    labelNames: ['endpoint'] as const,
    buckets: IDP_BUCKETS_SECONDS,
    registers,
  });
  const idpCallErrors = new Counter({
    name: 'zitauth_idp_call_errors_total',
    help: 'Failed calls to the IdP by endpoint kind and zitauth error code',
    labelNames: ['endpoint', 'code'] as const,
    registers,
  });
  const operatorFaults = new Counter({
    name: 'zitauth_operator_faults_total',
    help: 'Faults the operator must fix (wrong issuer, refused credentials, IdP unreachable) by kind',
    labelNames: ['kind'] as const,
    registers,
  });

  const listeners: [string, (message: unknown) => void][] = [
    [CHANNELS.verified, () => decisions.inc({ outcome: 'verified' })],
    [
      CHANNELS.refused,
      (message) => decisions.inc({ outcome: 'refused', code: (message as RefusedMessage).code }),
    ],
    [
      CHANNELS.inactive,
      (message) => decisions.inc({ outcome: 'inactive', code: (message as RefusedMessage).code }),
    ],
    [CHANNELS.cacheHit, () => cacheLookUps.inc({ result: 'hit' })],
    [CHANNELS.cacheMiss, () => cacheLookUps.inc({ result: 'miss' })],
    [
      CHANNELS.operatorFault,
      (message) => operatorFaults.inc({ kind: (message as OperatorFault).kind }),
    ],
    // asyncEnd comes after every call, answered or failed, with duration and error code set.
    [
      `tracing:${CHANNELS.idpCall}:asyncEnd`,
      (message) => {
        const call = message as IdpCallMessage;
        idpCallDuration.observe({ endpoint: call.endpoint }, (call.durationMs ?? 0) / 1000);
        if (call.errorCode !== undefined) {
          idpCallErrors.inc({ endpoint: call.endpoint, code: call.errorCode });
        }
      },
    ],
  ];
  for (const [name, listener] of listeners) subscribe(name, listener);

  return {
    decisions,
    cacheLookUps,
    cacheHitRatio,
    idpCallDuration,
    idpCallErrors,
    operatorFaults,
    stop() {
      for (const [name, listener] of listeners) unsubscribe(name, listener);
    },
  };
}
