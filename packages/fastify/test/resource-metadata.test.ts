// The plugin serves the RFC 9728 document at its well-known path when protectedResource is
// configured, without a token; without it, no route is added.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { zitauth, type ZitauthOptions } from '../src/index.js';

const ISSUER = 'https://issuer.example.com';
const PATH = '/.well-known/oauth-protected-resource/v1';
const apps: FastifyInstance[] = [];

async function app(options: Partial<ZitauthOptions> = {}): Promise<FastifyInstance> {
  const created = Fastify();
  apps.push(created);
  await created.register(zitauth, {
    issuer: ISSUER,
    projectId: 'p1',
    protectedResource: { resource: 'https://api.example.com/v1', scopes: ['a'] },
    // The issuer is never called here: no start-up check against it.
    checkOnReady: false,
    ...options,
  } as ZitauthOptions);
  created.get('/quotes', { onRequest: created.authenticate }, async () => []);
  return created;
}

afterEach(async () => {
  for (const created of apps.splice(0)) await created.close();
});

describe('the metadata route', () => {
  it('answers the document without a token, as JSON with caching headers', async () => {
    const res = await (await app()).inject({ url: PATH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.json()).toEqual({
      resource: 'https://api.example.com/v1',
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['a'],
    });
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await (await app()).inject({ method: 'HEAD', url: PATH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('');
  });

  it('names the document in the challenge of protected routes', async () => {
    const res = await (await app()).inject({ url: '/quotes' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="https://api.example.com${PATH}"`,
    );
  });

  it('adds no route without protectedResource', async () => {
    const res = await (await app({ protectedResource: undefined })).inject({ url: PATH });
    expect(res.statusCode).toBe(404);
  });
});
