// The adapters support Express 4 and Koa 2 as well as the current majors. This runs the
// whole conformance table through Express 4 and Koa 2 (installed as `express4` and `koa2`)
// and checks that they answer every case with the same bytes as Express 5.
import express4 from 'express4';
import Koa2 from 'koa2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@zitauth/core';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { expressHarness, koaHarness, type Harness } from './apps.js';
import { cases, type CaseEnv } from './cases.js';

let idp: TestIdp;
let env: CaseEnv;
const verifiers: Verifier[] = [];
let current: Harness;
let legacy: Harness[];

function verifier(introspection: { clientId: string; clientSecret: string }): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    introspection,
  });
  verifiers.push(created);
  return created;
}

beforeAll(async () => {
  idp = await startTestIdp();
  env = { idp, otherOrg: idp.createOrg({ name: 'Other' }) };
  const { clientId, clientSecret } = idp.createApiApp({ auth: 'basic' });
  current = expressHarness(verifier({ clientId, clientSecret }));
  legacy = [
    expressHarness(verifier({ clientId, clientSecret }), express4),
    koaHarness(verifier({ clientId, clientSecret }), () => new Koa2()),
  ];
});

afterAll(async () => {
  for (const v of verifiers) v.close();
  await idp?.close();
});

describe('Express 4 and Koa 2', () => {
  it('run on the installed legacy majors', () => {
    const versions = [express4, Koa2].map((module) => typeof module);
    expect(versions).toEqual(['function', 'function']);
  });

  it.each(cases)('answer "$name" as Express 5 does', async (testCase) => {
    const request = await testCase.request(env);
    const expected = await current.send(request);
    for (const harness of legacy) {
      expect(await harness.send(request), harness.name).toEqual(expected);
    }
  });
});
