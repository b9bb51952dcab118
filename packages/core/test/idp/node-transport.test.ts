/**
 * The keep-alive transport against a real HTTP server on 127.0.0.1: answers, connection
 * reuse, timers and listeners let go once answered, timeouts, body caps, aborts, and
 * idpFetch's mapping of its failures to UpstreamError.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpFetch } from '../../src/idp/http.js';
import {
  TransportTimeout,
  createNodeTransport,
  type TransportRequest,
} from '../../src/idp/node-transport.js';

let server: Server;
let base: string;
let connections = 0;
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/ok': (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('cache-control', 'max-age=60');
      res.end(JSON.stringify({ method: req.method, body }));
    });
  },
  '/never': () => undefined,
  '/big': (_req, res) => res.end('x'.repeat(2_000)),
  '/stream': (_req, res) => {
    res.write('x'.repeat(600));
    res.end('x'.repeat(600));
  },
  '/redirect': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
  '/down': (_req, res) => res.writeHead(502).end('bad gateway'),
};

beforeAll(async () => {
  server = createServer((req, res) => routes[req.url ?? '']?.(req, res));
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function init(overrides: Partial<TransportRequest> = {}): TransportRequest {
  return {
    method: 'GET',
    headers: {},
    body: undefined,
    timeoutMs: 2_000,
    maxResponseBytes: 1_024,
    signal: undefined,
    ...overrides,
  };
}

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('createNodeTransport', () => {
  it('answers over one kept-alive connection and leaves no timer behind', async () => {
    const transport = createNodeTransport();
    const shutdown = new AbortController();
    const before = { connections, timers: timers() };
    for (let i = 0; i < 20; i += 1) {
      const answer = await transport.request(`${base}/ok`, {
        ...init({ method: 'POST', body: `n=${i}`, signal: shutdown.signal, timeoutMs: 600_000 }),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('max-age=60');
      expect(JSON.parse(answer.body)).toEqual({ method: 'POST', body: `n=${i}` });
    }
    expect(connections - before.connections).toBe(1);
    // A timer per call would add 20; the pooled socket and the server's keep-alive may add one each.
    expect(timers() - before.timers).toBeLessThanOrEqual(2);
    transport.close();
  });

  it('gives up after the timeout', async () => {
    const transport = createNodeTransport();
    await expect(
      transport.request(`${base}/never`, init({ timeoutMs: 50 })),
    ).rejects.toBeInstanceOf(TransportTimeout);
    transport.close();
  });

  it('refuses a body over the cap, declared or streamed', async () => {
    const transport = createNodeTransport();
    await expect(transport.request(`${base}/big`, init())).rejects.toThrow(
      /exceeds the 1024 byte cap/,
    );
    await expect(transport.request(`${base}/stream`, init())).rejects.toThrow(
      /exceeds the 1024 byte cap/,
    );
    transport.close();
  });

  it('stops when the owner aborts, before or during a call', async () => {
    const transport = createNodeTransport();
    const shutdown = new AbortController();
    const pending = transport.request(`${base}/never`, init({ signal: shutdown.signal }));
    shutdown.abort();
    await expect(pending).rejects.toThrow('the call was aborted');
    await expect(
      transport.request(`${base}/ok`, init({ signal: shutdown.signal })),
    ).rejects.toThrow('the call was aborted');
    transport.close();
  });
});

describe('idpFetch through the transport', () => {
  const transport = createNodeTransport();
  afterAll(() => transport.close());

  it('answers like fetch does', async () => {
    const answer = await idpFetch(`${base}/ok`, { method: 'POST', body: 'a=1' }, { transport });
    expect(answer).toMatchObject({ status: 200, body: '{"method":"POST","body":"a=1"}' });
  });

  it.each([
    ['/redirect', 'ERR_ZITAUTH_UPSTREAM'],
    ['/down', 'ERR_ZITAUTH_UPSTREAM'],
    ['/never', 'ERR_ZITAUTH_UPSTREAM_TIMEOUT'],
  ])('turns %s into UpstreamError %s', async (path, code) => {
    await expect(
      idpFetch(`${base}${path}`, {}, { transport, timeoutMs: 50 }),
    ).rejects.toMatchObject({
      status: 503,
      code,
    });
  });

  it('leaves a body that is not text to fetch, and fetch leaves no timer behind', async () => {
    const before = timers();
    for (let i = 0; i < 20; i += 1) {
      const answer = await idpFetch(
        `${base}/ok`,
        { method: 'POST', body: new URLSearchParams({ a: '1' }) },
        { transport, timeoutMs: 600_000 },
      );
      expect(JSON.parse(answer.body)).toEqual({ method: 'POST', body: 'a=1' });
    }
    expect(timers() - before).toBeLessThanOrEqual(2);
  });
});
