/**
 * `idpFetch`, `parseJsonObject` and `cacheControlMaxAge`: every IdP failure mode becomes
 * `UpstreamError` (timeouts with their own code), redirects are never followed, and bodies
 * are capped. A few cases run Node's own fetch against a server on 127.0.0.1 to prove
 * the guarantees hold with the default `fetch`, not only with injected ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  cacheControlMaxAge,
  idpFetch,
  parseJsonObject,
  type FetchLike,
} from '../../src/idp/http.js';

/** A fetch that answers with `response` and records what it was called with. */
function answering(response: () => Response): FetchLike & { calls: RequestInit[] } {
  const calls: RequestInit[] = [];
  const fetch = async (_url: string | URL, init?: RequestInit): Promise<Response> => {
    calls.push(init ?? {});
    return response();
  };
  return Object.assign(fetch, { calls });
}

/** A fetch that, like a real one, hangs until its signal aborts. */
const hanging: FetchLike = (_url, init) =>
  new Promise((_resolve, reject) => {
    const signal = init?.signal;
    if (signal?.aborted === true) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason));
  });

/** A body stream whose `cancel` fails, to prove cancel failures are swallowed. */
function stream(chunks: Uint8Array[], failCancel = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
    cancel() {
      if (failCancel) throw new Error('cancel failed');
    },
  });
}

async function upstreamCause(promise: Promise<unknown>): Promise<UpstreamError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('idpFetch', () => {
  it('resolves status, headers and body, and sends no-redirect and a signal', async () => {
    const fetch = answering(
      () => new Response('{"a":1}', { status: 200, headers: { 'x-test': 'yes' } }),
    );
    const response = await idpFetch(
      'https://idp.example/x',
      { method: 'POST', body: 'b' },
      { fetch },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-test')).toBe('yes');
    expect(response.body).toBe('{"a":1}');
    expect(fetch.calls[0]).toMatchObject({ method: 'POST', body: 'b', redirect: 'manual' });
    expect(fetch.calls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('resolves 4xx answers for the caller to judge', async () => {
    const fetch = answering(() => new Response('nope', { status: 401 }));
    await expect(idpFetch('https://idp.example', {}, { fetch })).resolves.toMatchObject({
      status: 401,
      body: 'nope',
    });
  });

  it('reads an empty body as an empty string', async () => {
    const fetch = answering(() => new Response(null, { status: 204 }));
    await expect(idpFetch('https://idp.example', {}, { fetch })).resolves.toMatchObject({
      status: 204,
      body: '',
    });
  });

  it.each([301, 302, 303, 307, 308])('refuses a %i redirect', async (status) => {
    const fetch = answering(
      () => new Response(null, { status, headers: { location: 'https://evil.example' } }),
    );
    const error = await upstreamCause(idpFetch('https://idp.example', {}, { fetch }));
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
    expect(String((error.cause as Error).message)).toContain(`redirect (${status})`);
  });

  it('refuses a redirect even when cancelling its body fails', async () => {
    const fetch = answering(() => new Response(stream([new Uint8Array(1)], true), { status: 302 }));
    await upstreamCause(idpFetch('https://idp.example', {}, { fetch }));
  });

  it.each([500, 502, 503, 504])('turns a %i into UpstreamError', async (status) => {
    const fetch = answering(() => new Response('oops', { status }));
    const error = await upstreamCause(idpFetch('https://idp.example', {}, { fetch }));
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
    expect((error.cause as Error).message).toBe(`the IdP answered ${status}`);
  });

  it('turns a network failure into UpstreamError keeping the cause', async () => {
    const cause = new TypeError('fetch failed');
    const fetch: FetchLike = () => Promise.reject(cause);
    const error = await upstreamCause(idpFetch('https://idp.example', {}, { fetch }));
    expect(error.cause).toBe(cause);
    expect(error.headers['Retry-After']).toBe('5');
  });

  it('times out with its own code', async () => {
    const error = await upstreamCause(
      idpFetch('https://idp.example', {}, { fetch: hanging, timeoutMs: 20 }),
    );
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM_TIMEOUT');
  });

  it('is aborted by the owner signal, which is not a timeout', async () => {
    const owner = new AbortController();
    const pending = idpFetch('https://idp.example', {}, { fetch: hanging, signal: owner.signal });
    owner.abort();
    const error = await upstreamCause(pending);
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
  });

  it('fails at once when the owner signal was already aborted', async () => {
    const error = await upstreamCause(
      idpFetch('https://idp.example', {}, { fetch: hanging, signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM');
  });

  it('refuses a body whose declared length is over the cap without reading it', async () => {
    const fetch = answering(
      () =>
        new Response(stream([new Uint8Array(10)], true), {
          status: 200,
          headers: { 'content-length': '11' },
        }),
    );
    const error = await upstreamCause(
      idpFetch('https://idp.example', {}, { fetch, maxResponseBytes: 10 }),
    );
    expect((error.cause as Error).message).toContain('11 bytes exceeds the 10 byte cap');
  });

  it('refuses a streamed body once it grows past the cap', async () => {
    const chunks = [new Uint8Array(6), new Uint8Array(6), new Uint8Array(6)];
    const fetch = answering(() => new Response(stream(chunks, true), { status: 200 }));
    const error = await upstreamCause(
      idpFetch('https://idp.example', {}, { fetch, maxResponseBytes: 10 }),
    );
    expect((error.cause as Error).message).toBe('response body exceeds the 10 byte cap');
  });

  it('accepts a body of exactly the cap, in several chunks', async () => {
    const chunks = [Buffer.from('hello'), Buffer.from('world')];
    const fetch = answering(() => new Response(stream(chunks), { status: 200 }));
    await expect(
      idpFetch('https://idp.example', {}, { fetch, maxResponseBytes: 10 }),
    ).resolves.toMatchObject({ body: 'helloworld' });
  });

  it('ignores an unparsable content-length and still caps the body', async () => {
    const fetch = answering(
      () =>
        new Response(stream([new Uint8Array(20)]), {
          status: 200,
          headers: { 'content-length': 'lots' },
        }),
    );
    await upstreamCause(idpFetch('https://idp.example', {}, { fetch, maxResponseBytes: 10 }));
  });

  it('caps at 1 MiB and times out after 5 s by default', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(1_048_576);
    expect(DEFAULT_TIMEOUT_MS).toBe(5_000);
    const fetch = answering(() => new Response(new Uint8Array(DEFAULT_MAX_RESPONSE_BYTES + 1)));
    await upstreamCause(idpFetch('https://idp.example', {}, { fetch }));
  });
});

describe('idpFetch with the default fetch', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/redirect') {
        response.writeHead(302, { location: '/ok' }).end();
      } else if (request.url === '/stall') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"partial":');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads an answer', async () => {
    await expect(idpFetch(`${base}/ok`, {})).resolves.toMatchObject({
      status: 200,
      body: '{"ok":true}',
    });
  });

  it('does not follow a redirect', async () => {
    await upstreamCause(idpFetch(`${base}/redirect`, {}));
  });

  it('times out while the body is still arriving', async () => {
    const error = await upstreamCause(idpFetch(`${base}/stall`, {}, { timeoutMs: 100 }));
    expect(error.code).toBe('ERR_ZITAUTH_UPSTREAM_TIMEOUT');
  });
});

describe('parseJsonObject', () => {
  it('parses a JSON object', () => {
    expect(parseJsonObject('{"active":true}')).toEqual({ active: true });
  });

  it('turns garbage into UpstreamError without quoting the body', () => {
    expect(() => parseJsonObject('<html>')).toThrow(UpstreamError);
    const echoed = 'token=eyJhbGciOiJSUzI1NiJ9.secret';
    const error = (() => {
      try {
        return parseJsonObject(echoed);
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(UpstreamError);
    expect(String((error as Error & { cause: Error }).cause.message)).not.toContain('token=');
    expect(JSON.stringify(error)).not.toContain('eyJ');
  });

  it.each(['[]', 'null', '1', '"x"', 'true'])('refuses the JSON value %s', (body) => {
    expect(() => parseJsonObject(body)).toThrow(UpstreamError);
  });
});

describe('cacheControlMaxAge', () => {
  it.each([
    [null, undefined],
    ['', undefined],
    ['public', undefined],
    ['max-age=300', 300],
    ['max-age=300, must-revalidate', 300],
    ['public,max-age=60', 60],
    ['Max-Age=120', 120],
    ['s-maxage=600', 600],
    ['max-age=0', 0],
    ['no-store', 0],
    ['max-age=300, no-cache', 0],
    ['NO-CACHE', 0],
    ['max-age=-1', undefined],
    ['max-age=abc', undefined],
    ['max-age=', undefined],
    ['x-max-age=300', undefined],
    ['s-max-age=300', undefined],
  ])('reads %j as %j seconds', (header, expected) => {
    expect(cacheControlMaxAge(header)).toBe(expected);
  });
});
