/**
 * The circuit breaker on an injected clock: it opens after consecutive failures, refuses
 * at once while open, lets exactly one probe through after the cool-off, and ignores
 * outcomes that say nothing about the IdP.
 */
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../src/idp/circuit-breaker.js';
import { InvalidTokenError, UpstreamError } from '../../src/errors.js';

function setup(threshold = 3, coolOffMs = 10_000) {
  let time = 0;
  const opened: unknown[] = [];
  const breaker = createCircuitBreaker({
    failureThreshold: threshold,
    coolOffMs,
    now: () => time,
    onOpen: (error) => opened.push(error),
    classify: (error) =>
      error === 'neutral' ? 'neutral' : error instanceof UpstreamError ? 'failure' : 'success',
  });
  let calls = 0;
  const fail = () =>
    breaker(async () => {
      calls += 1;
      throw new UpstreamError();
    });
  const succeed = () =>
    breaker(async () => {
      calls += 1;
      return 'ok';
    });
  return {
    breaker,
    fail,
    succeed,
    opened,
    calls: () => calls,
    advance: (ms: number) => (time += ms),
  };
}

describe('createCircuitBreaker', () => {
  it('opens after consecutive failures and then refuses without calling', async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toBeInstanceOf(UpstreamError);
    expect(b.calls()).toBe(3);
    const refused = b.succeed();
    await expect(refused).rejects.toBeInstanceOf(UpstreamError);
    await expect(refused).rejects.toMatchObject({
      status: 503,
      headers: { 'Retry-After': '10' },
    });
    expect(b.calls()).toBe(3);
    expect(b.opened).toHaveLength(1);
  });

  it('counts only consecutive failures: an answer resets the count', async () => {
    const b = setup();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.fail()).rejects.toThrow();
    await expect(b.succeed()).resolves.toBe('ok');
    await expect(b.fail()).rejects.toThrow();
    await expect(b.succeed()).resolves.toBe('ok');
    expect(b.calls()).toBe(5);
  });

  it('treats a refused token as an answer, not a failure', async () => {
    const b = setup(1);
    const refused = b.breaker(async () => {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TYPE');
    });
    await expect(refused).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('ignores neutral outcomes', async () => {
    const b = setup(2);
    await expect(b.fail()).rejects.toThrow();
    await expect(b.breaker(() => Promise.reject('neutral'))).rejects.toBe('neutral');
    await expect(b.fail()).rejects.toThrow();
    await expect(b.succeed()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('lets one probe through after the cool-off and closes when it succeeds', async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(9_999);
    await expect(b.succeed()).rejects.toBeInstanceOf(UpstreamError);
    b.advance(1);
    let release: (value: string) => void = () => undefined;
    const probe = b.breaker(
      () =>
        new Promise<string>((resolve) => {
          release = resolve;
        }),
    );
    // While the probe is out, everyone else is still refused at once.
    await expect(b.succeed()).rejects.toBeInstanceOf(UpstreamError);
    release('probed');
    await expect(probe).resolves.toBe('probed');
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('opens for another cool-off when the probe fails, without reporting again', async () => {
    const b = setup();
    for (let i = 0; i < 3; i++) await expect(b.fail()).rejects.toThrow();
    b.advance(10_000);
    await expect(b.fail()).rejects.toThrow();
    expect(b.calls()).toBe(4);
    await expect(b.succeed()).rejects.toBeInstanceOf(UpstreamError);
    expect(b.calls()).toBe(4);
    expect(b.opened).toHaveLength(1);
    b.advance(10_000);
    await expect(b.succeed()).resolves.toBe('ok');
  });

  it('refuses nonsense settings at construction', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => createCircuitBreaker({ coolOffMs: -1 })).toThrow(/coolOffMs/);
  });
});

describe('the cause of a refusal', () => {
  it('is what onOpen returned, until the circuit closes again', async () => {
    let time = 0;
    const fault = new Error('circuit open after 2 failures of https://idp.example/introspect');
    const seen: [unknown, number][] = [];
    const breaker = createCircuitBreaker({
      failureThreshold: 2,
      coolOffMs: 1_000,
      now: () => time,
      onOpen: (error, failures) => {
        seen.push([error, failures]);
        return fault;
      },
    });
    const failing = () => breaker(() => Promise.reject(new UpstreamError()));
    await expect(failing()).rejects.toBeInstanceOf(UpstreamError);
    await expect(failing()).rejects.toBeInstanceOf(UpstreamError);
    expect(seen).toEqual([[expect.any(UpstreamError), 2]]);
    await expect(failing()).rejects.toMatchObject({ cause: fault });
    time += 1_000;
    await expect(breaker(async () => 'ok')).resolves.toBe('ok');
    await expect(failing()).rejects.not.toMatchObject({ cause: fault });
  });
});
