/**
 * `GET /api/v1/validate` over HTTP against the local IdP, as a JSON endpoint (the seed's
 * contract) and as forward-auth for a reverse proxy, plus its CORS for browser apps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp } from '@zitauth/testing';
import { APP_ORIGIN, startStack, type Stack } from './helpers.js';

let stack: Stack;
let editor: string;
let reader: string;
/** Carol belongs to the default organisation but is admin only in Beta. */
let carol: string;
let homeOrg: string;
let beta: string;
beforeAll(async () => {
  stack = await startStack();
  // The scope the gateway's login asks for: ZITADEL names the organisation only then.
  const scope = 'openid profile email urn:zitadel:iam:user:resourceowner';
  editor = await stack.idp.mintAccessToken({ subject: stack.user.id, scope });
  const bob = stack.idp.createUser({ userName: 'bob', roles: ['reader'] });
  reader = await stack.idp.mintAccessToken({ subject: bob.id });
  homeOrg = stack.idp.defaultOrg.id;
  const betaOrg = stack.idp.createOrg({ name: 'Beta', primaryDomain: 'beta.localhost' });
  beta = betaOrg.id;
  const user = stack.idp.createUser({
    userName: 'carol',
    roles: { admin: { [beta]: 'beta.localhost' }, 'a,b@c': { [beta]: 'beta.localhost' } },
  });
  carol = await stack.idp.mintAccessToken({ subject: user.id, scope });
});
afterAll(() => stack.close());

const REALM = 'Bearer realm="zitauth-gateway"';
const FORWARD = { 'x-original-uri': '/api/quote', 'x-original-method': 'GET' };

const validate = (headers: Record<string, string | string[]>, url = '/api/v1/validate') =>
  stack.gateway.inject({ method: 'GET', url, headers });

describe('GET /api/v1/validate (JSON)', () => {
  it('answers 200 with the normalized caller for a valid JWT', async () => {
    const response = await validate({ authorization: `Bearer ${editor}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      active: true,
      subject: stack.user.id,
      tokenKind: 'jwt',
      issuer: stack.idp.issuer,
      orgId: stack.idp.defaultOrg.id,
      roles: { editor: { [stack.idp.defaultOrg.id]: stack.idp.defaultOrg.primaryDomain } },
    });
    expect(body['claims']).toMatchObject({ sub: stack.user.id, iss: stack.idp.issuer });
    expect(response.headers['x-auth-subject']).toBe(stack.user.id);
  });

  it('answers 200 for an opaque token, checked by introspection', async () => {
    const opaque = await stack.idp.mintAccessToken({ subject: stack.user.id, format: 'opaque' });
    const response = await validate({ authorization: `Bearer ${opaque}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      active: true,
      subject: stack.user.id,
      tokenKind: 'opaque',
    });
  });

  it('answers 200 for a service user personal access token (opaque)', async () => {
    const bot = stack.idp.createServiceUser({ userName: 'bot', roles: ['editor'] });
    const response = await validate({ authorization: `Bearer ${bot.pat}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ subject: bot.userId, tokenKind: 'opaque' });
  });

  it('answers 400 without an Authorization header', async () => {
    const response = await validate({});
    expect(response.statusCode).toBe(400);
    expect(response.headers['www-authenticate']).toBe(REALM);
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'No access token was sent',
    });
  });

  it.each([
    ['a scheme without a token', 'Bearer'],
    ['another scheme', 'Basic YTpi'],
  ])('answers 400 for a header without a bearer token: %s', async (_name, authorization) => {
    const response = await validate({ authorization });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers 401 invalid_token for a malformed token (a space inside)', async () => {
    const response = await validate({ authorization: 'Bearer abc def' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is malformed',
    });
  });

  it('answers 400 for two Authorization headers', async () => {
    const response = await validate({ authorization: [`Bearer ${editor}`, `Bearer ${reader}`] });
    expect(response.statusCode).toBe(400);
    expect(response.headers['www-authenticate']).toBe(
      `${REALM}, error="invalid_request", error_description="More than one access token was sent"`,
    );
  });

  it.each([
    [
      'a forged signature',
      async () => `${editor.slice(0, -4)}AAAA`,
      'The access token signature is invalid',
    ],
    [
      'an expired token',
      () => stack.idp.mintAccessToken({ expiresInSeconds: -600 }),
      'The access token expired',
    ],
    [
      'another audience',
      () => stack.idp.mintAccessToken({ audience: ['other'] }),
      'The access token is not meant for this API',
    ],
    [
      'an unknown opaque token',
      async () => 'opaque-token-nobody-issued',
      'The access token is not active',
    ],
  ])('answers 401 with an RFC 6750 challenge for %s', async (_name, make, description) => {
    const response = await validate({ authorization: `Bearer ${await make()}` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `${REALM}, error="invalid_token", error_description="${description}"`,
    );
    expect(response.json()).toEqual({ error: 'invalid_token', error_description: description });
  });

  it('answers 503 when the IdP cannot introspect', async () => {
    const idp = await startTestIdp();
    const down = await startStack({}, idp);
    idp.faults.set('introspect', { status: 503 });
    try {
      const opaque = await idp.mintAccessToken({ format: 'opaque' });
      const response = await down.gateway.inject({
        url: '/api/v1/validate',
        headers: { authorization: `Bearer ${opaque}` },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
      await idp.close();
    }
  });

  it('checks a role given as ?role=', async () => {
    expect(
      (await validate({ authorization: `Bearer ${editor}` }, '/api/v1/validate?role=editor'))
        .statusCode,
    ).toBe(200);
    const refused = await validate(
      { authorization: `Bearer ${reader}` },
      '/api/v1/validate?role=editor',
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('refuses a malformed required role with 400', async () => {
    const response = await validate(
      { authorization: `Bearer ${editor}` },
      '/api/v1/validate?role=ad%3Bmin',
    );
    expect(response.statusCode).toBe(400);
  });
});

describe('GET /api/v1/validate (forward-auth)', () => {
  it('answers 200 with X-Auth-* headers for the proxy to forward', async () => {
    const response = await validate({ ...FORWARD, authorization: `Bearer ${editor}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'x-auth-subject': stack.user.id,
      'x-auth-roles': `editor@${stack.idp.defaultOrg.id}`,
      'x-auth-home-org-id': stack.idp.defaultOrg.id,
      'x-auth-token-kind': 'jwt',
    });
    expect(response.headers['x-auth-org-id']).toBeUndefined();
    expect(response.headers['x-auth-client-id']).toBeDefined();
  });

  it('names the organisation of each role, percent-encoding separators in role keys', async () => {
    const response = await validate({ ...FORWARD, authorization: `Bearer ${carol}` });
    expect(response.headers['x-auth-home-org-id']).toBe(homeOrg);
    expect(String(response.headers['x-auth-roles']).split(',')).toEqual([
      `admin@${beta}`,
      `a%2Cb%40c@${beta}`,
    ]);
  });

  it('checks ?role= in the organisation given by ?org=', async () => {
    const headers = { ...FORWARD, authorization: `Bearer ${carol}` };
    const inHome = await validate(headers, `/api/v1/validate?role=admin&org=${homeOrg}`);
    expect(inHome.statusCode).toBe(403);
    const inBeta = await validate(headers, `/api/v1/validate?role=admin&org=${beta}`);
    expect(inBeta.statusCode).toBe(200);
    // Without ?org= a role counts in any organisation.
    expect((await validate(headers, '/api/v1/validate?role=admin')).statusCode).toBe(200);
    const byHeader = await validate({
      ...headers,
      'x-required-role': 'admin',
      'x-required-org': homeOrg,
    });
    expect(byHeader.statusCode).toBe(403);
  });

  it.each([
    ['two organisations', '/api/v1/validate?role=admin&org=1&org=2'],
    ['a malformed organisation', '/api/v1/validate?role=admin&org=a%2Cb'],
    ['an organisation without a role', '/api/v1/validate?org=1'],
  ])('refuses %s with 400', async (_name, url) => {
    const response = await validate({ ...FORWARD, authorization: `Bearer ${carol}` }, url);
    expect(response.statusCode).toBe(400);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    'refuses %s with 405 and Allow',
    async (method) => {
      const response = await stack.gateway.inject({
        method,
        url: '/api/v1/validate',
        headers: { ...FORWARD, authorization: `Bearer ${editor}` },
      });
      expect(response.statusCode).toBe(405);
      expect(response.headers['allow']).toBe('GET, HEAD');
      expect(response.headers['x-auth-subject']).toBeUndefined();
    },
  );

  it('answers 401 (not 400) without a token, as nginx auth_request needs', async () => {
    const response = await validate(FORWARD);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe(REALM);
  });

  it('answers 401 for a malformed token', async () => {
    const response = await validate({ ...FORWARD, authorization: 'Bearer a b' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers 401 for an invalid token', async () => {
    const response = await validate({ 'x-forwarded-uri': '/', authorization: 'Bearer nope' });
    expect(response.statusCode).toBe(401);
  });

  it('answers 403 when the proxy requires a role the caller lacks (X-Required-Role)', async () => {
    const headers = { ...FORWARD, 'x-required-role': 'editor' };
    const refused = await validate({ ...headers, authorization: `Bearer ${reader}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['www-authenticate']).toBe(
      `${REALM}, error="insufficient_scope", error_description="The access token does not grant the required permission"`,
    );
    expect((await validate({ ...headers, authorization: `Bearer ${editor}` })).statusCode).toBe(
      200,
    );
  });

  it('needs every role of a comma-separated list', async () => {
    const headers = { ...FORWARD, authorization: `Bearer ${editor}` };
    expect((await validate({ ...headers, 'x-required-role': 'editor, admin' })).statusCode).toBe(
      403,
    );
  });

  it('answers 401 before 403 for an unauthenticated caller', async () => {
    expect((await validate({ ...FORWARD, 'x-required-role': 'editor' })).statusCode).toBe(401);
  });
});

describe('CORS for browser apps', () => {
  it('allows an allowed origin, echoing it exactly', async () => {
    const response = await validate({ origin: APP_ORIGIN, authorization: `Bearer ${editor}` });
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(response.headers['vary']).toContain('Origin');
  });

  it('sends no CORS header to other origins', async () => {
    const response = await validate({
      origin: 'https://evil.test',
      authorization: `Bearer ${editor}`,
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('keeps the CORS header on error answers, so the app can read them', async () => {
    const response = await validate({ origin: APP_ORIGIN, authorization: 'Bearer nope' });
    expect(response.statusCode).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('answers preflights for allowed origins', async () => {
    for (const path of ['/api/v1/validate', '/api/v1/userinfo']) {
      const response = await stack.gateway.inject({
        method: 'OPTIONS',
        url: path,
        headers: {
          origin: APP_ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(response.statusCode).toBe(204);
      expect(response.headers).toMatchObject({
        'access-control-allow-origin': APP_ORIGIN,
        'access-control-allow-methods': 'GET',
        'access-control-allow-headers': 'Authorization',
      });
    }
    const other = await stack.gateway.inject({
      method: 'OPTIONS',
      url: '/api/v1/validate',
      headers: { origin: 'https://evil.test' },
    });
    expect(other.statusCode).toBe(204);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
