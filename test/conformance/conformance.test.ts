// The conformance table run through the Express, Koa and Fastify adapters over HTTP
// against the real testing IdP: every case must give its exact answer in each adapter,
// and the three adapters must answer every case with the same bytes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier, type VerifierOptions } from '@zitauth/core';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  expressHarness,
  fastifyHarness,
  koaHarness,
  type Harness,
  type TestRequest,
  type TestResponse,
} from './apps.js';
import {
  cases,
  coldCases,
  PROTECTED_RESOURCE,
  resourceMetadataCases,
  transportCases,
  type Case,
  type CaseEnv,
  type Expected,
} from './cases.js';
import {
  DPOP_ALGORITHMS,
  EXTERNAL_URL,
  dpopAllowedCases,
  dpopRequiredCases,
} from './dpop-cases.js';

const ADAPTERS = ['express', 'koa', 'fastify'] as const;
type Adapters = Record<Harness['name'], Harness>;

let idp: TestIdp;
let env: CaseEnv;
let introspection: { clientId: string; clientSecret: string };
let warm: Adapters;
let transports: Adapters;
let described: Adapters;
const verifiers: Verifier[] = [];
const built: Harness[] = [];

/** One app per adapter, each with its own verifier so none answers from another's cache. */
async function adapters(options: Partial<VerifierOptions> = {}): Promise<Adapters> {
  const verifier = (): Verifier => {
    const created = createVerifier({
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection,
      ...options,
    });
    verifiers.push(created);
    return created;
  };
  const trio = {
    express: expressHarness(verifier()),
    koa: koaHarness(verifier()),
    fastify: await fastifyHarness(verifier()),
  };
  built.push(...Object.values(trio));
  return trio;
}

beforeAll(async () => {
  idp = await startTestIdp();
  env = { idp, otherOrg: idp.createOrg({ name: 'Other' }) };
  const { clientId, clientSecret } = idp.createApiApp({ auth: 'basic' });
  introspection = { clientId, clientSecret };
  warm = await adapters();
  transports = await adapters({ tokenTransport: { query: true, body: true } });
  described = await adapters({ protectedResource: PROTECTED_RESOURCE });
});

afterAll(async () => {
  for (const harness of built) await harness.close();
  for (const verifier of verifiers) verifier.close();
  await idp?.close();
});

afterEach(() => idp.faults.clear());

/** Sends one request with the case's fault in place, and clears the fault after. */
async function send(harness: Harness, testCase: Case, request: TestRequest): Promise<TestResponse> {
  if (testCase.fault !== undefined) idp.faults.set(...testCase.fault);
  try {
    return await harness.send(request);
  } finally {
    idp.faults.clear();
  }
}

/** Asserts the exact status, challenge, Retry-After, content type and JSON body. */
function expectAnswer(res: TestResponse, testCase: Case): void {
  const want: Expected =
    typeof testCase.expect === 'function' ? testCase.expect(env) : testCase.expect;
  expect({
    status: res.status,
    wwwAuthenticate: res.wwwAuthenticate,
    retryAfter: res.retryAfter,
    body: JSON.parse(res.body) as unknown,
  }).toEqual({
    status: want.status,
    wwwAuthenticate: want.wwwAuthenticate,
    retryAfter: want.retryAfter,
    body: want.body,
  });
  expect(res.contentType).toBe(want.contentType ?? 'application/json; charset=utf-8');
  if (want.cacheControl !== undefined) expect(res.cacheControl).toBe(want.cacheControl);
}

/** Sends the same request to the three adapters and asserts identical responses. */
async function expectSameBytes(trio: Adapters, testCase: Case): Promise<TestResponse> {
  const request = await testCase.request(env);
  const express = await send(trio.express, testCase, request);
  expect(await send(trio.koa, testCase, request), `koa: ${testCase.name}`).toEqual(express);
  expect(await send(trio.fastify, testCase, request), `fastify: ${testCase.name}`).toEqual(express);
  return express;
}

describe.each(ADAPTERS)('%s adapter', (name) => {
  it.each(cases)('$name', async (testCase) => {
    expectAnswer(await send(warm[name], testCase, await testCase.request(env)), testCase);
  });
});

describe.each(ADAPTERS)('%s adapter with query and body transports on', (name) => {
  it.each(transportCases)('$name', async (testCase) => {
    expectAnswer(await send(transports[name], testCase, await testCase.request(env)), testCase);
  });
});

describe.each(ADAPTERS)('%s adapter with protected resource metadata', (name) => {
  it.each(resourceMetadataCases)('$name', async (testCase) => {
    expectAnswer(await send(described[name], testCase, await testCase.request(env)), testCase);
  });
});

describe('all adapters', () => {
  it('answer every case with the same status, headers and body bytes', async () => {
    for (const testCase of cases) await expectSameBytes(warm, testCase);
    for (const testCase of transportCases) await expectSameBytes(transports, testCase);
    for (const testCase of resourceMetadataCases) await expectSameBytes(described, testCase);
  });

  it.each(coldCases)('$name, identically', async (testCase) => {
    expectAnswer(await expectSameBytes(await adapters(), testCase), testCase);
  });
});

describe.each([
  ['allowed', dpopAllowedCases],
  ['required', dpopRequiredCases],
] as const)('all adapters with dpop %s', (mode, dpopCases) => {
  let trio: Adapters;
  beforeAll(async () => {
    trio = await adapters({
      dpop: { mode, externalUrl: EXTERNAL_URL, algorithms: DPOP_ALGORITHMS },
    });
  });

  it.each(dpopCases)('$name, identically', async (testCase) => {
    expectAnswer(await expectSameBytes(trio, testCase), testCase);
  });
});

describe('a shared verifier with its own realm', () => {
  it('gives every challenge its realm, guards after optional auth included', async () => {
    const trio = await adapters({ realm: 'quotes' });
    for (const path of ['/me', '/optional-admin']) {
      for (const name of ADAPTERS) {
        const res = await trio[name].send({ path });
        expect([name, path, res.status, res.wwwAuthenticate]).toEqual([
          name,
          path,
          401,
          'Bearer realm="quotes"',
        ]);
      }
    }
  });
});
