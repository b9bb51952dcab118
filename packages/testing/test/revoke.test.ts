import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import type { ApiApp } from '../src/types.js';
import { basic, postForm } from './helpers.js';

describe('revocation', () => {
  let idp: TestIdp;
  let app: ApiApp & { clientSecret: string };
  const introspect = async (token: string): Promise<unknown> =>
    (
      await postForm(
        `${idp.issuer}/oauth/v2/introspect`,
        { token },
        { Authorization: basic(app.clientId, app.clientSecret) },
      )
    ).json();

  beforeAll(async () => {
    idp = await startTestIdp();
    app = idp.createApiApp({ auth: 'basic' });
  });
  afterAll(() => idp.close());

  it.each(['jwt', 'opaque'] as const)(
    'makes a revoked %s token introspect as inactive',
    async (format) => {
      const token = await idp.mintAccessToken({ format });
      expect(await introspect(token)).toMatchObject({ active: true });
      idp.revoke(token);
      expect(await introspect(token)).toEqual({ active: false });
    },
  );

  it('revokes over the revocation endpoint with client auth', async () => {
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const res = await postForm(
      `${idp.issuer}/oauth/v2/revoke`,
      { token },
      { Authorization: basic(app.clientId, app.clientSecret) },
    );
    expect(res.status).toBe(200);
    expect(await introspect(token)).toEqual({ active: false });
  });

  it('answers 200 for an unknown token and leaves foreign tokens alone', async () => {
    const other = idp.createApiApp({ auth: 'basic', projectId: idp.createProject().id });
    const token = await idp.mintAccessToken();
    const auth = { Authorization: basic(other.clientId, other.clientSecret) };
    expect(
      (await postForm(`${idp.issuer}/oauth/v2/revoke`, { token: 'unknown' }, auth)).status,
    ).toBe(200);
    expect((await postForm(`${idp.issuer}/oauth/v2/revoke`, { token }, auth)).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true });
  });

  // zitadel/oidc pkg/op/server_http.go: parseClientCredentials answers a request naming no
  // client 400 invalid_request; revocationHandler answers a missing token 400.
  it('answers 400 without client identification and 400 without a token', async () => {
    expect((await postForm(`${idp.issuer}/oauth/v2/revoke`, { token: 'x' })).status).toBe(400);
    const res = await postForm(
      `${idp.issuer}/oauth/v2/revoke`,
      {},
      { Authorization: basic(app.clientId, app.clientSecret) },
    );
    expect(res.status).toBe(400);
  });

  it('ignores revoking something that is not a token', () => {
    expect(() => idp.revoke('a.b.c')).not.toThrow();
    expect(() => idp.revoke('')).not.toThrow();
  });
});
