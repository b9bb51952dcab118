/**
 * The M2M journey over real HTTP: the m2m-gateway example gets a token from the gateway
 * (which does the JWT bearer grant with the service user's key at the local IdP) and
 * calls the Express quote API with it. No system packages needed.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, hashSecret } from '@zitauth/gateway';
import { startTestIdp, type ServiceUser, type TestIdp } from '@zitauth/testing';
import { createApp } from '../../examples/express-quotes/src/app.js';
import {
  createGatewayTokenSource,
  fetchQuote,
  GatewayTokenError,
} from '../../examples/m2m-gateway/src/client.js';

const SECRET = 'a long random secret for the billing service';

let idp: TestIdp;
let service: ServiceUser;
let api: Server;
let apiUrl: string;
let gateway: FastifyInstance;
let gatewayUrl: string;

beforeAll(async () => {
  idp = await startTestIdp();
  service = idp.createServiceUser({ userName: 'gateway-service', roles: ['editor'] });
  api = createApp({ auth: { issuer: idp.issuer, projectId: idp.defaultProject.id } }).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((resolve) => api.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  gateway = await createGateway({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: 'http://127.0.0.1',
    allowedOrigins: [],
    m2m: {
      keyFile: service.keyFile,
      clients: [{ id: 'billing', secretSha256: hashSecret(SECRET) }],
    },
    logger: false,
  });
  gatewayUrl = await gateway.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  if (api !== undefined) await new Promise((resolve) => api.close(resolve));
  await idp?.close();
});

describe('the m2m-gateway example', () => {
  it('gets a token from the gateway and reads a quote as the service user', async () => {
    const source = createGatewayTokenSource({
      gatewayUrl,
      clientId: 'billing',
      clientSecret: SECRET,
    });
    const answer = await fetchQuote(apiUrl, await source.getToken());
    expect(answer.quote.text.length).toBeGreaterThan(0);
    expect(answer.askedBy).toEqual({ subject: service.userId, tokenKind: 'jwt' });
  });

  it('reuses its token while it is fresh', async () => {
    const source = createGatewayTokenSource({
      gatewayUrl,
      clientId: 'billing',
      clientSecret: SECRET,
    });
    expect(await source.getToken()).toBe(await source.getToken());
  });

  it('can add a quote with the service user editor role', async () => {
    const token = await createGatewayTokenSource({
      gatewayUrl,
      clientId: 'billing',
      clientSecret: SECRET,
    }).getToken();
    const response = await fetch(`${apiUrl}/api/quotes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Machines talk too.', author: 'billing' }),
    });
    expect(response.status).toBe(201);
  });

  it('is refused with a wrong secret', async () => {
    const source = createGatewayTokenSource({
      gatewayUrl,
      clientId: 'billing',
      clientSecret: 'guess',
    });
    const error = await source.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayTokenError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});
