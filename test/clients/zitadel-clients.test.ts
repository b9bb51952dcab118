/**
 * ZITADEL's own Node clients against the testing IdP, and zitauth verifying what they get:
 *
 * - `@zitadel/node`: `ServiceAccount.authenticate` (JWT bearer grant with a service-user key
 *   file, scopes built the way the library builds them) and `Application` assertions
 *   (private_key_jwt for introspection with an API application key file);
 * - `passport-zitadel`: its introspection strategy with an application key file, mounted in
 *   an Express app, beside a zitauth-protected route of the same app.
 *
 * If these clients work here, the IdP speaks the wire format the real ones were written for,
 * and the tokens users get from them in production are the tokens zitauth is tested with.
 */
import { ServiceAccount, Application } from '@zitadel/node/dist/credentials/index.js';
import { createVerifier, type Verifier } from '@zitauth/core';
import { auth, errorHandler } from '@zitauth/express';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import express from 'express';
import passport from 'passport';
import { ZitadelIntrospectionStrategy } from 'passport-zitadel';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startTestIdp();
});

afterAll(async () => {
  await idp.close();
});

/** Posts to the IdP's introspection endpoint as an API application with a signed assertion. */
async function introspectWithAssertion(token: string, assertion: string): Promise<Response> {
  return fetch(`${idp.issuer}/oauth/v2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      token,
    }),
  });
}

describe('@zitadel/node ServiceAccount.authenticate', () => {
  let verifier: Verifier;

  beforeAll(() => {
    verifier = createVerifier({ issuer: idp.issuer, projectId: idp.defaultProject.id });
  });

  afterAll(async () => {
    await verifier.close();
  });

  it('gets a JWT access token with the project audience scope that zitauth accepts', async () => {
    const user = idp.createServiceUser({ roles: ['reader'] });
    const account = ServiceAccount.fromJson(user.keyFile);

    const token = await account.authenticate(idp.issuer, {
      projectAudiences: [idp.defaultProject.id],
    });

    const context = await verifier.verify(token);
    expect(context.subject).toBe(user.userId);
    expect(context.clientId).toBe(user.userId);
    expect(context.audience).toContain(idp.defaultProject.id);
    // As in ZITADEL, a project without role assertion puts roles in the token only when a
    // role scope asks for them (next test).
    expect(context.roles).toEqual({});
  });

  it('asks for roles with role scopes, and the roles claim carries what was asked for', async () => {
    const user = idp.createServiceUser({ roles: ['reader', 'editor'] });
    const account = ServiceAccount.fromJson(user.keyFile);

    const token = await account.authenticate(idp.issuer, {
      projectAudiences: [idp.defaultProject.id],
      roles: ['editor'],
    });

    const context = await verifier.verify(token);
    expect(Object.keys(context.roles)).toContain('editor');
  });

  it('without the project audience scope, the token is not for this API and zitauth refuses it', async () => {
    const user = idp.createServiceUser({ roles: ['reader'] });
    const token = await ServiceAccount.fromJson(user.keyFile).authenticate(idp.issuer);

    await expect(verifier.verify(token)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_AUDIENCE_MISMATCH',
      status: 401,
    });
  });

  it('is refused by the IdP when its key is unknown (a key file of another IdP)', async () => {
    const other = await startTestIdp();
    try {
      const stranger = other.createServiceUser();
      await expect(
        ServiceAccount.fromJson(stranger.keyFile).authenticate(idp.issuer),
      ).rejects.toThrow();
    } finally {
      await other.close();
    }
  });
});

describe('@zitadel/node Application assertions', () => {
  it('authenticate an API application at the introspection endpoint', async () => {
    const app = idp.createApiApp({ auth: 'private_key_jwt' });
    const assertion = await Application.fromJson(app.keyFile).getSignedJwt(idp.issuer);
    const token = await idp.mintAccessToken({ format: 'opaque' });

    const response = await introspectWithAssertion(token, assertion);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ active: true });
  });

  it('with the wrong audience are refused as client authentication', async () => {
    const app = idp.createApiApp({ auth: 'private_key_jwt' });
    const assertion = await Application.fromJson(app.keyFile).getSignedJwt('https://elsewhere');
    const token = await idp.mintAccessToken({ format: 'opaque' });

    const response = await introspectWithAssertion(token, assertion);

    expect(response.status).toBe(401);
  });

  it('come from the same key file zitauth introspects with', async () => {
    const app = idp.createApiApp({ auth: 'private_key_jwt' });
    const verifier = createVerifier({
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { keyFile: app.keyFile },
    });
    try {
      const token = await idp.mintAccessToken({ format: 'opaque', roles: ['reader'] });
      const context = await verifier.verify(token);
      expect(context.roles).toHaveProperty('reader');
    } finally {
      await verifier.close();
    }
  });
});

describe('passport-zitadel introspection strategy beside zitauth in one Express app', () => {
  let server: express.Express;
  let verifier: Verifier;

  beforeAll(async () => {
    const api = idp.createApiApp({ auth: 'private_key_jwt' });
    const strategy = await ZitadelIntrospectionStrategy.create({
      authority: idp.issuer,
      authorization: { type: 'jwt-profile', profile: api.keyFile },
    });
    passport.use(strategy);

    verifier = createVerifier({
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { keyFile: api.keyFile },
    });

    server = express();
    server.use(passport.initialize());
    server.get(
      '/passport',
      passport.authenticate('zitadel-introspection', { session: false }),
      (req, res) => {
        res.json({ sub: (req as { user?: { sub?: string } }).user?.sub });
      },
    );
    server.get('/zitauth', auth({ verifier }), (req, res) => {
      res.json({ sub: req.auth?.subject });
    });
    server.use(errorHandler({ log: () => undefined }));
  });

  afterAll(async () => {
    await verifier.close();
  });

  it('both accept an opaque token, a JWT and a personal access token, for the same subject', async () => {
    const user = idp.createUser({ roles: ['reader'] });
    const service = idp.createServiceUser({ roles: ['reader'] });
    const tokens = [
      await idp.mintAccessToken({ format: 'opaque', subject: user.id }),
      await idp.mintAccessToken({ format: 'jwt', subject: user.id }),
      service.pat,
    ];

    for (const token of tokens) {
      const viaPassport = await request(server)
        .get('/passport')
        .set('authorization', `Bearer ${token}`);
      const viaZitauth = await request(server)
        .get('/zitauth')
        .set('authorization', `Bearer ${token}`);
      expect(viaPassport.status).toBe(200);
      expect(viaZitauth.status).toBe(200);
      expect(viaZitauth.body.sub).toBe(viaPassport.body.sub);
    }
  });

  it('both refuse a revoked token and a token of another IdP', async () => {
    const revoked = await idp.mintAccessToken({ format: 'opaque' });
    idp.revoke(revoked);
    const other = await startTestIdp();
    const foreign = await other.mintAccessToken({ format: 'opaque' });
    await other.close();

    for (const token of [revoked, foreign]) {
      const viaPassport = await request(server)
        .get('/passport')
        .set('authorization', `Bearer ${token}`);
      const viaZitauth = await request(server)
        .get('/zitauth')
        .set('authorization', `Bearer ${token}`);
      expect(viaPassport.status).toBe(401);
      expect(viaZitauth.status).toBe(401);
      expect(viaZitauth.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
  });
});
