// A user's own vitest file: the testing IdP mints a token and core verifies it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '@zitauth/core';
import { startTestIdp, type TestIdp } from '@zitauth/testing';

let idp: TestIdp;
let verifier: Verifier;

beforeAll(async () => {
  idp = await startTestIdp();
  verifier = createVerifier({ issuer: idp.issuer, projectId: idp.defaultProject.id });
});

afterAll(async () => {
  verifier.close();
  await idp.close();
});

it('verifies a token minted by the testing IdP', async () => {
  const token = await idp.mintAccessToken({ roles: ['editor'] });
  const caller = await verifier.verify(token);
  expect(Object.keys(caller.roles)).toEqual(['editor']);
});

it('refuses an expired one', async () => {
  const token = await idp.mintAccessToken({ expiresInSeconds: -60 });
  await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_ZITAUTH_TOKEN_EXPIRED' });
});
