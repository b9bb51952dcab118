import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../src/index.js';
import { basic, postForm } from './helpers.js';

const POST_PATHS = [
  '/oauth/v2/introspect',
  '/oauth/v2/token',
  '/oauth/v2/revoke',
  '/oidc/v1/userinfo',
  '/ui/login/login',
];

describe('robustness', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(() => idp.close());

  it.each(POST_PATHS)(
    'answers garbage posted to %s with a 4xx JSON or HTML error',
    async (path) => {
      const bodies: [string, string][] = [
        ['application/x-www-form-urlencoded', '%%%&&&==\u0000'],
        ['application/json', '{"token":'],
        ['text/plain', '\u00ff\u00fe'],
      ];
      for (const [type, body] of bodies) {
        const res = await fetch(`${idp.issuer}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': type },
          body,
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    },
  );

  it('answers active:false for tokens with a broken header or payload', async () => {
    const app = idp.createApiApp({ auth: 'basic' });
    const b64 = (s: string): string => Buffer.from(s).toString('base64url');
    const tokens = [
      `${b64('{"alg":"RS256","kid":"1"}')}.${b64('null')}.sig`,
      `${b64('not json')}.${b64('{}')}.sig`,
      `${b64(JSON.stringify({ alg: 'RS256', kid: idp.keys.list()[0]?.kid }))}.${b64('[]')}.AAAA`,
      await idp.signJwt({}, { iss: idp.issuer, exp: 'soon', jti: 'x' }),
    ];
    for (const token of tokens) {
      const res = await postForm(
        `${idp.issuer}/oauth/v2/introspect`,
        { token },
        { Authorization: basic(app.clientId, app.clientSecret) },
      );
      expect(await res.json()).toEqual({ active: false });
    }
  });

  it('refuses assertions that are not JWTs with invalid_client', async () => {
    for (const assertion of ['x', 'a.b.c', `${Buffer.from('{}').toString('base64url')}.e30.`]) {
      const res = await postForm(`${idp.issuer}/oauth/v2/introspect`, {
        token: 't',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(res.status).toBe(401);
    }
  });

  it('authenticates Basic secrets with spaces, plus signs and percent signs', async () => {
    const app = idp.createApiApp({ auth: 'basic', clientSecret: 'a b+c%d:e' });
    const res = await postForm(
      `${idp.issuer}/oauth/v2/introspect`,
      { token: 'x' },
      { Authorization: basic(app.clientId, app.clientSecret) },
    );
    expect(res.status).toBe(200);
  });

  it('refuses Basic credentials with a broken percent-encoding', async () => {
    const header = `Basic ${Buffer.from('abc:%E0%A4%A').toString('base64')}`;
    const res = await postForm(
      `${idp.issuer}/oauth/v2/introspect`,
      { token: 'x' },
      { Authorization: header },
    );
    expect(res.status).toBe(401);
  });

  it('survives a malformed HTTP request and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const url = new URL(idp.issuer);
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.end('GARBAGE \u0000\r\n\r\n'),
      );
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect((await fetch(`${idp.issuer}/oauth/v2/keys`)).status).toBe(200);
  });

  it('answers HEAD on the key set', async () => {
    const res = await fetch(`${idp.issuer}/oauth/v2/keys`, { method: 'HEAD' });
    expect(res.status).toBe(200);
  });
});
