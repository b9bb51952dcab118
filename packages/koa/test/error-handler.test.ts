// errorHandler(): zitauth errors become status + headers + JSON; everything else is rethrown.
import Koa from 'koa';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { errorHandler, InvalidTokenError, UpstreamError } from '../src/index.js';

function failing(error: unknown): Koa {
  const app = new Koa();
  app.silent = true;
  return app.use(errorHandler()).use(() => {
    throw error;
  });
}

describe('errorHandler()', () => {
  it('renders a zitauth error as status, headers and { error, error_description }', async () => {
    const res = await request(
      failing(new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED')).callback(),
    ).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    );
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token expired',
    });
  });

  it("reports an IdP outage to app.on('error') and answers 503 with Retry-After", async () => {
    const app = failing(new UpstreamError());
    const seen = vi.fn();
    app.on('error', seen);
    const res = await request(app.callback()).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(seen).toHaveBeenCalledWith(expect.any(UpstreamError), expect.anything());
  });

  it('rethrows other errors to Koa', async () => {
    const res = await request(failing(new Error('boom')).callback()).get('/');
    expect(res.status).toBe(500);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});
