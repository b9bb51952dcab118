/**
 * nginx `auth_request` in front of an API, with the gateway's `/api/v1/validate` as the
 * auth endpoint: real nginx, real gateway, real local IdP, all on 127.0.0.1. The API
 * behind nginx trusts the `X-Auth-*` headers nginx sets from the gateway's answer and
 * echoes what it received, so the test sees exactly what an upstream would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '@zitauth/gateway';
import { startTestIdp, type TestIdp, type User } from '@zitauth/testing';
import { freePort, requireExecutable, startNginx, type Nginx } from './support.js';

/** An auth subrequest location: plain, demanding a role, or a role in one organisation. */
function authLocation(name: string, gateway: string, query = ''): string {
  return `
    location = ${name} {
      internal;
      proxy_pass ${gateway}/api/v1/validate${query};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Required-Role "";
    }`;
}

/** A protected location: forwards the caller nginx learned from the gateway, nothing the client sent. */
function protectedLocation(prefix: string, auth: string, api: string): string {
  return `
    location ${prefix} {
      auth_request ${auth};
      auth_request_set $auth_subject $upstream_http_x_auth_subject;
      auth_request_set $auth_roles $upstream_http_x_auth_roles;
      auth_request_set $auth_home_org $upstream_http_x_auth_home_org_id;
      proxy_set_header X-Auth-Subject $auth_subject;
      proxy_set_header X-Auth-Roles $auth_roles;
      proxy_set_header X-Auth-Home-Org-Id $auth_home_org;
      proxy_pass ${api};
    }`;
}

/** What the upstream API received. */
interface Echo {
  method: string;
  path: string;
  subject: string | undefined;
  roles: string | undefined;
  org: string | undefined;
  body: string;
}

async function startEchoApi(): Promise<{ server: Server; url: string }> {
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        path: req.url ?? '',
        subject: req.headers['x-auth-subject'] as string | undefined,
        roles: req.headers['x-auth-roles'] as string | undefined,
        org: req.headers['x-auth-home-org-id'] as string | undefined,
        body,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let idp: TestIdp;
let gateway: FastifyInstance;
let api: { server: Server; url: string };
let nginx: Nginx;
let ada: User;
let editorToken: string;
let readerToken: string;
/** Admin in the Beta organisation only, though a member of the default one. */
let betaAdminToken: string;
let beta: string;

beforeAll(async () => {
  requireExecutable('nginx', ['-v'], 'apt-get install -y nginx');
  idp = await startTestIdp();
  const introspector = idp.createApiApp({ auth: 'basic' });
  ada = idp.createUser({ userName: 'ada', roles: ['editor'] });
  const bob = idp.createUser({ userName: 'bob', roles: ['reader'] });
  // The gateway's login scope: ZITADEL names the home organisation (X-Auth-Home-Org-Id) only for
  // urn:zitadel:iam:user:resourceowner.
  const scope = 'openid profile email urn:zitadel:iam:user:resourceowner';
  editorToken = await idp.mintAccessToken({ subject: ada.id, scope });
  readerToken = await idp.mintAccessToken({ subject: bob.id, scope });
  beta = idp.createOrg({ name: 'Beta', primaryDomain: 'beta.localhost' }).id;
  const carol = idp.createUser({
    userName: 'carol',
    roles: { admin: { [beta]: 'beta.localhost' } },
  });
  betaAdminToken = await idp.mintAccessToken({ subject: carol.id, scope });
  gateway = await createGateway({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: 'http://127.0.0.1',
    allowedOrigins: [],
    introspection: { clientId: introspector.clientId, clientSecret: introspector.clientSecret },
    logger: false,
  });
  const gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
  api = await startEchoApi();
  const port = await freePort();
  nginx = await startNginx(
    port,
    () => `
  server {
    listen 127.0.0.1:${port};
    ${authLocation('/_auth', gatewayUrl)}
    ${authLocation('/_auth_editor', gatewayUrl, '?role=editor')}
    ${authLocation('/_auth_home_admin', gatewayUrl, `?role=admin&org=${idp.defaultOrg.id}`)}
    ${authLocation('/_auth_beta_admin', gatewayUrl, `?role=admin&org=${beta}`)}
    ${protectedLocation('/api/', '/_auth', api.url)}
    ${protectedLocation('/admin/', '/_auth_editor', api.url)}
    ${protectedLocation('/home-admin/', '/_auth_home_admin', api.url)}
    ${protectedLocation('/beta-admin/', '/_auth_beta_admin', api.url)}
  }`,
  );
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  if (api !== undefined) await new Promise((resolve) => api.server.close(resolve));
  await gateway?.close();
  await idp?.close();
});

const call = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
  fetch(`${nginx.url}${path}`, { ...init, headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('nginx auth_request with the gateway', () => {
  it('answers 401 with the gateway challenge when no token is sent', async () => {
    const response = await call('/api/quote');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="zitauth-gateway"');
  });

  it('answers 401 for a bad token and a malformed header, never reaching the API', async () => {
    expect((await call('/api/quote', bearer('not-a-token'))).status).toBe(401);
    expect((await call('/api/quote', { authorization: 'Bearer a b' })).status).toBe(401);
    const expired = await idp.mintAccessToken({ subject: ada.id, expiresInSeconds: -600 });
    expect((await call('/api/quote', bearer(expired))).status).toBe(401);
  });

  it('passes a valid caller with X-Auth-Subject, roles with their organisation, home organisation', async () => {
    const response = await call('/api/quote?x=1', bearer(editorToken));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      path: '/api/quote?x=1',
      subject: ada.id,
      roles: `editor@${idp.defaultOrg.id}`,
      org: idp.defaultOrg.id,
    });
  });

  it('grants an organisation-scoped location only for a role held in that organisation', async () => {
    // Carol's home is the default organisation, but she is admin only in Beta.
    expect((await call('/home-admin/users', bearer(betaAdminToken))).status).toBe(403);
    const allowed = await call('/beta-admin/users', bearer(betaAdminToken));
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({
      roles: `admin@${beta}`,
      org: idp.defaultOrg.id,
    });
    expect((await call('/beta-admin/users', bearer(editorToken))).status).toBe(403);
  });

  it('overwrites an X-Auth-Subject the client sends itself', async () => {
    const response = await call('/api/quote', { ...bearer(readerToken), 'x-auth-subject': ada.id });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).subject).not.toBe(ada.id);
  });

  it('accepts an opaque token, introspected by the gateway', async () => {
    const opaque = await idp.mintAccessToken({ subject: ada.id, format: 'opaque' });
    const response = await call('/api/quote', bearer(opaque));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).subject).toBe(ada.id);
  });

  it('checks the caller of a request with a body without sending the body to the gateway', async () => {
    const response = await call(
      '/api/quotes',
      { ...bearer(editorToken), 'content-type': 'application/json' },
      { method: 'POST', body: JSON.stringify({ text: 'hi', author: 'me' }) },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      method: 'POST',
      subject: ada.id,
      body: '{"text":"hi","author":"me"}',
    });
    expect((await call('/api/quotes', {}, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('answers 403 on a location requiring a role the caller lacks, 200 with it', async () => {
    expect((await call('/admin/users', bearer(readerToken))).status).toBe(403);
    const allowed = await call('/admin/users', bearer(editorToken));
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as Echo).subject).toBe(ada.id);
    expect((await call('/admin/users')).status).toBe(401);
  });

  it('fails closed (5xx, not 200 or 401) when the IdP cannot be reached', async () => {
    idp.faults.set('introspect', { status: 503 });
    try {
      const opaque = await idp.mintAccessToken({ subject: ada.id, format: 'opaque' });
      const response = await call('/api/quote', bearer(opaque));
      expect(response.status).toBe(500);
    } finally {
      idp.faults.clear();
    }
  });
});
