// errorHandler(): zitauth errors become status + headers + JSON; everything else goes on.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler, InsufficientScopeError, UpstreamError } from '../src/index.js';

function failing(error: unknown): express.Express {
  const app = express();
  app.get('/', () => {
    throw error;
  });
  return app.use(errorHandler());
}

describe('errorHandler()', () => {
  it('renders a zitauth error as status, headers and { error, error_description }', async () => {
    const res = await request(failing(new UpstreamError())).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token could not be checked; try again later',
    });
  });

  it('renders a 403 with its challenge', async () => {
    const res = await request(failing(new InsufficientScopeError({ scopes: ['a', 'b'] }))).get('/');
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission", scope="a b"',
    );
  });

  it('passes other errors on to the next handler', async () => {
    const res = await request(failing(new Error('boom'))).get('/');
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});
