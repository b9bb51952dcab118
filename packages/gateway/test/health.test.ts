/** `/healthz` and `/readyz`: liveness of the process, readiness following the IdP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { probeIdp } from '../src/routes/health.js';
import { startStack, type Stack } from './helpers.js';

let idp: TestIdp;
let stack: Stack;
beforeAll(async () => {
  idp = await startTestIdp();
  stack = await startStack({}, idp);
});
afterAll(async () => {
  await stack.close();
  await idp.close();
});

describe('health', () => {
  it('answers /healthz with 200 whatever the IdP does', async () => {
    idp.faults.set('discovery', { status: 500 });
    try {
      const response = await stack.gateway.inject({ url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok' });
    } finally {
      idp.faults.clear();
    }
  });

  it('answers /readyz with 200 while the IdP serves discovery and keys', async () => {
    const response = await stack.gateway.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', idp: 'reachable' });
  });

  it.each([
    ['discovery fails', 'discovery' as const, { status: 500 }],
    ['the key set fails', 'keys' as const, { status: 503 }],
    ['discovery is garbage', 'discovery' as const, { status: 200, body: 'garbage' as const }],
  ])('answers /readyz with 503 when %s', async (_name, endpoint, fault) => {
    idp.faults.set(endpoint, fault);
    try {
      const response = await stack.gateway.inject({ url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: 'unavailable', idp: 'unreachable' });
    } finally {
      idp.faults.clear();
    }
    expect((await stack.gateway.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('reuses a readiness result for readinessCacheMs', async () => {
    const cached = await startStack({ readinessCacheMs: 60_000 }, idp);
    try {
      await cached.gateway.inject({ url: '/readyz' });
      idp.resetCalls();
      await cached.gateway.inject({ url: '/readyz' });
      expect(idp.calls('discovery')).toBe(0);
    } finally {
      await cached.close();
    }
  });

  it('reports the IdP unready when it sends a key set too large to read', async () => {
    expect(await probeIdp(idp.issuer, fetch, 2_000)).toBe(true);
    // A well-formed key set, but 2 MiB: only the body cap makes it unreadable.
    const oversized = JSON.stringify({ keys: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    idp.faults.set('keys', { body: oversized, times: 1 });
    expect(await probeIdp(idp.issuer, fetch, 2_000)).toBe(false);
    idp.faults.set('discovery', { body: 'garbage', times: 1 });
    expect(await probeIdp(idp.issuer, fetch, 2_000)).toBe(false);
    expect(await probeIdp(`${idp.issuer}/`, fetch, 2_000)).toBe(false);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await stack.gateway.inject({ url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', error_description: 'No such route' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
