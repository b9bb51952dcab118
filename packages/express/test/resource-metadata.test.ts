// resourceMetadata(): the RFC 9728 document at its well-known path in an Express app, over
// HTTP, beside auth(); everything else passes through.
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  auth,
  createVerifier,
  resourceMetadata,
  ZitauthConfigError,
  type Verifier,
} from '../src/index.js';

const ISSUER = 'https://issuer.example.com';
const PATH = '/.well-known/oauth-protected-resource/v1';
const verifiers: Verifier[] = [];

function verifier(withResource = true): Verifier {
  const created = createVerifier({
    issuer: ISSUER,
    projectId: 'p1',
    ...(withResource ? { protectedResource: { resource: 'https://api.example.com/v1' } } : {}),
  });
  verifiers.push(created);
  return created;
}

function app(): express.Express {
  const protect = auth(verifier());
  const created = express();
  created.use(resourceMetadata(protect));
  created.use(protect);
  created.get('/quotes', (_req, res) => void res.json([]));
  return created;
}

afterEach(() => {
  for (const created of verifiers.splice(0)) created.close();
});

describe('resourceMetadata()', () => {
  it('answers the document without a token, as JSON with caching headers', async () => {
    const res = await request(app()).get(PATH).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(JSON.parse(res.text)).toEqual({
      resource: 'https://api.example.com/v1',
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
    });
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await request(app()).head(PATH).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.text).toBeUndefined();
  });

  it('lets other paths and methods through to auth()', async () => {
    const res = await request(app()).get('/quotes').expect(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", resource_metadata="https://api.example.com${PATH}"`,
    );
    await request(app()).post(PATH).expect(401);
    await request(app()).get('/.well-known/oauth-protected-resource').expect(401);
  });

  it('refuses a verifier without protectedResource when created', () => {
    expect(() => resourceMetadata(verifier(false))).toThrow(ZitauthConfigError);
    expect(() => resourceMetadata(verifier(false))).toThrow(/protectedResource/);
    expect(() => resourceMetadata({} as Verifier)).toThrow(/protectedResource/);
  });
});
