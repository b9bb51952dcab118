// Operator faults and the operator log: which failures are the operator's, how a fault
// is found and described, and that each distinct cause is reported once per interval.
import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  createOperatorLog,
  describeCause,
  InvalidTokenError,
  OperatorFault,
  operatorFaultOf,
  reportOperatorFault,
  UpstreamError,
} from '../../src/index.js';

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

function outage(message: string): UpstreamError {
  return new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
    cause: new OperatorFault('keys-unreachable', message),
  });
}

describe('createOperatorLog', () => {
  it('reports a cause once per interval, then again', () => {
    const time = clock();
    const log = createOperatorLog({ intervalMs: 60_000, now: time.now });
    expect(log(outage('zitauth: keys down'))?.message).toBe('zitauth: keys down');
    time.advance(59_999);
    expect(log(outage('zitauth: keys down'))).toBeUndefined();
    time.advance(1);
    expect(log(outage('zitauth: keys down'))?.kind).toBe('keys-unreachable');
  });

  it('reports distinct causes separately', () => {
    const log = createOperatorLog();
    expect(log(outage('zitauth: one'))).toBeDefined();
    expect(log(outage('zitauth: two'))).toBeDefined();
    expect(log(outage('zitauth: one'))).toBeUndefined();
  });

  it("never reports a caller's error, nor a plain error", () => {
    const log = createOperatorLog();
    expect(log(new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED'))).toBeUndefined();
    expect(log(new Error('boom'))).toBeUndefined();
    expect(log('not even an error')).toBeUndefined();
  });

  it('forgets the oldest cause past 256, so memory stays bounded', () => {
    const log = createOperatorLog();
    for (let i = 0; i <= 256; i += 1) log(outage(`zitauth: cause ${i}`));
    expect(log(outage('zitauth: cause 0'))).toBeDefined();
    expect(log(outage('zitauth: cause 256'))).toBeUndefined();
  });
});

describe('operatorFaultOf', () => {
  it('describes a 5xx without a fault from its causes', () => {
    const fault = operatorFaultOf(
      new UpstreamError('ERR_ZITAUTH_UPSTREAM', { cause: new Error('queue is full') }),
    );
    expect(fault).toMatchObject({
      kind: 'upstream',
      message: 'zitauth: The token could not be checked; try again later (queue is full)',
    });
    expect(operatorFaultOf(new UpstreamError())?.message).toBe(
      'zitauth: The token could not be checked; try again later',
    );
  });

  it('finds a fault thrown on its own or deep in a cause chain', () => {
    const fault = new OperatorFault('misuse', 'zitauth: run auth() first');
    expect(operatorFaultOf(fault)).toBe(fault);
    expect(operatorFaultOf(new Error('outer', { cause: fault }))).toBe(fault);
  });
});

describe('reportOperatorFault', () => {
  it('publishes the fault on zitauth:operator-fault', () => {
    const seen: unknown[] = [];
    const onMessage = (message: unknown): void => void seen.push(message);
    diagnostics.subscribe(CHANNELS.operatorFault, onMessage);
    try {
      const fault = reportOperatorFault('circuit-open', 'zitauth: circuit open', {
        cause: new Error('5 failures'),
      });
      expect(seen).toEqual([fault]);
      expect(fault).toMatchObject({ name: 'ZitauthOperatorFault', expose: false });
      expect(fault.cause).toEqual(new Error('5 failures'));
    } finally {
      diagnostics.unsubscribe(CHANNELS.operatorFault, onMessage);
    }
  });
});

describe('describeCause', () => {
  it('joins a chain of causes, with system codes, skipping generic texts', () => {
    const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const error = new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new TypeError('fetch failed', { cause: system }),
    });
    expect(describeCause(error)).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:9 (ECONNREFUSED)',
    );
  });

  it('keeps a hostile cause to one short line', () => {
    const text = describeCause(new Error(`a\r\nb${'x'.repeat(500)}`));
    expect(text).not.toMatch(/[\r\n]/);
    expect(text.length).toBeLessThanOrEqual(301);
    expect(describeCause('plain')).toBe('plain');
    expect(describeCause(new UpstreamError())).toBe('unknown error');
  });
});
