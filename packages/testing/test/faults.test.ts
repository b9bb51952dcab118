import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';

describe('faults', () => {
  let idp: TestIdp;
  let keysUrl: string;
  beforeAll(async () => {
    idp = await startTestIdp();
    keysUrl = `${idp.issuer}/oauth/v2/keys`;
  });
  beforeEach(() => {
    idp.faults.clear();
    idp.resetCalls();
  });
  afterAll(() => idp.close());

  it('answers with an injected status and a JSON error body', async () => {
    idp.faults.set('keys', { status: 503 });
    const res = await fetch(keysUrl);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: 'server_error',
      error_description: 'injected fault',
    });
  });

  it('answers with a garbage body that is not JSON', async () => {
    idp.faults.set('keys', { body: 'garbage' });
    const res = await fetch(keysUrl);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it('answers with a huge body', async () => {
    idp.faults.set('introspect', { body: 'huge' });
    const res = await fetch(`${idp.issuer}/oauth/v2/introspect`, { method: 'POST' });
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(4 * 1024 * 1024);
  });

  it('answers with a literal body and status', async () => {
    idp.faults.set('discovery', { status: 200, body: '{"issuer":"https://evil.example"}' });
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(await res.json()).toEqual({ issuer: 'https://evil.example' });
  });

  it('delays an answer, then runs the normal handler', async () => {
    idp.faults.set('keys', { latencyMs: 200 });
    const started = Date.now();
    const res = await fetch(keysUrl);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
  });

  it('times out a client when the latency exceeds its limit', async () => {
    idp.faults.set('keys', { latencyMs: 2000 });
    await expect(fetch(keysUrl, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });

  it('closes the connection', async () => {
    idp.faults.set('keys', { closeConnection: true });
    await expect(fetch(keysUrl)).rejects.toThrow();
  });

  it('clears itself after the given number of times', async () => {
    idp.faults.set('keys', { status: 500, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(keysUrl)).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('clears one endpoint or all of them', async () => {
    idp.faults.set('keys', { status: 500 });
    idp.faults.set('discovery', { status: 500 });
    idp.faults.clear('keys');
    expect((await fetch(keysUrl)).status).toBe(200);
    expect((await fetch(`${idp.issuer}/.well-known/openid-configuration`)).status).toBe(500);
    idp.faults.clear();
    expect((await fetch(`${idp.issuer}/.well-known/openid-configuration`)).status).toBe(200);
  });

  it('counts faulted and normal calls per endpoint', async () => {
    idp.faults.set('keys', { status: 500, times: 1 });
    await fetch(keysUrl);
    await fetch(keysUrl);
    expect(idp.calls('keys')).toBe(2);
    expect(idp.calls('introspect')).toBe(0);
    idp.resetCalls();
    expect(idp.calls('keys')).toBe(0);
  });

  it('closes promptly while a delayed answer is pending', async () => {
    const other = await startTestIdp();
    other.faults.set('keys', { latencyMs: 60_000 });
    const pending = fetch(`${other.issuer}/oauth/v2/keys`).catch(() => 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('failed');
  });

  it('holds a request without answering until the client gives up', async () => {
    idp.faults.set('keys', { hang: true });
    await expect(fetch(keysUrl, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(idp.calls('keys')).toBe(1);
  });

  it('edits the normal answer: a field removed, a field added, another content type', async () => {
    idp.faults.set('discovery', {
      omitFields: ['jwks_uri'],
      addFields: { extra: true },
      contentType: 'text/html',
    });
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(res.headers.get('content-type')).toBe('text/html');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ issuer: idp.issuer, extra: true });
    expect(body).not.toHaveProperty('jwks_uri');
  });

  it('sends a fault body with the given content type', async () => {
    idp.faults.set('keys', { body: '{"keys":[]}', contentType: 'text/plain' });
    const res = await fetch(keysUrl);
    expect(res.headers.get('content-type')).toBe('text/plain');
  });
});
