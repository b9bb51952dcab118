/**
 * Protected resource metadata (RFC 9728) with an independent authorization server: each
 * adapter, configured with oidc-provider as its issuer, names the metadata in its
 * challenge and serves a document whose authorization server is the provider's issuer;
 * a client that knows only the API then discovers the provider from it, gets a token for
 * the resource at the discovered token endpoint and is let in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, testApi, type AdapterName, type Api } from './apps.js';
import {
  API,
  API_SCOPES,
  M2M,
  RESOURCES,
  startProvider,
  type InteropProvider,
} from './provider.js';

let provider: InteropProvider;

beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider.close();
});

const METADATA_PATH = '/.well-known/oauth-protected-resource/rs256';

function api(adapter: AdapterName): Promise<Api> {
  return testApi(adapter, {
    issuer: provider.issuer,
    audience: RESOURCES.rs256,
    protectedResource: { resource: RESOURCES.rs256, scopes: API_SCOPES.split(' ') },
  });
}

/** A token for `resource` by client credentials at a token endpoint found by discovery. */
async function clientCredentials(tokenEndpoint: string, resource: string, scope: string) {
  const basic = Buffer.from(`${M2M.clientId}:${M2M.clientSecret}`).toString('base64');
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe.each(ADAPTERS)('protected resource metadata through %s', (adapter) => {
  it("names the provider's issuer, and discovery from it leads to an accepted token", async () => {
    const app = await api(adapter);
    const refused = await app.get('/me');
    expect(refused.status).toBe(401);
    expect(refused.wwwAuthenticate).toBe(
      `Bearer realm="api", resource_metadata="${API}${METADATA_PATH}"`,
    );

    const served = await app.get(METADATA_PATH);
    expect(served.status).toBe(200);
    const metadata = served.body as {
      resource: string;
      authorization_servers: string[];
      scopes_supported: string[];
    };
    expect(metadata).toEqual({
      resource: RESOURCES.rs256,
      authorization_servers: [provider.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['api:read', 'api:write'],
    });

    const issuer = metadata.authorization_servers[0]!;
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const document = (await discovery.json()) as { issuer: string; token_endpoint: string };
    expect(document.issuer).toBe(provider.issuer);

    const token = await clientCredentials(
      document.token_endpoint,
      metadata.resource,
      metadata.scopes_supported.join(' '),
    );
    const admitted = await app.get('/me', token);
    expect(admitted.status).toBe(200);
    expect(admitted.body).toMatchObject({ subject: M2M.clientId, audience: [RESOURCES.rs256] });
  });

  it('names the metadata when the token is refused', async () => {
    const app = await api(adapter);
    const token = await provider.clientCredentials(RESOURCES.es256);
    const refused = await app.get('/me', token);
    expect(refused.status).toBe(401);
    expect(refused.wwwAuthenticate).toMatch(/error="invalid_token"/);
    expect(refused.wwwAuthenticate).toMatch(
      new RegExp(`, resource_metadata="${API}${METADATA_PATH}"$`),
    );
  });
});
