/**
 * IdP calls on `node:http`/`node:https` with keep-alive agents owned by one verifier,
 * used when no `fetch` is configured. A first-seen opaque token costs one introspection
 * call, so its CPU is on the request's path: through `fetch` (undici, web streams,
 * `AbortSignal.any`) it cost several times a plain keep-alive `http.request`, and each
 * call left its timeout timer behind. Here one request carries its own timer, cleared
 * the moment the answer is read, and listens to the owner's shutdown signal only while
 * it runs; the socket goes back to the agent's pool, unreferenced, for the next call.
 * The rules of `idpFetch` are the same: no redirects followed, a body cap, a timeout.
 */
import http from 'node:http';
import https from 'node:https';

/** How long an idle pooled connection is kept, in milliseconds. */
const IDLE_SOCKET_MS = 30_000;

/** What one call needs; the caller (`idpFetch`) maps failures to `UpstreamError`. */
export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  signal: AbortSignal | undefined;
}

/** One answer, body read within the cap. */
export interface TransportResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** Thrown when a call runs out of time, so the caller can tell a timeout apart. */
export class TransportTimeout extends Error {
  override name = 'TransportTimeout';
}

/** A keep-alive HTTP client for IdP calls. */
export interface NodeTransport {
  request(url: string | URL, init: TransportRequest): Promise<TransportResponse>;
  /** Closes pooled connections; calls in flight are ended by the owner's signal. */
  close(): void;
}

function toHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** Reads the body up to `limit` bytes; rejects once it grows past it. */
function readBody(response: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      response.destroy();
      reject(new Error(`response body of ${declared} bytes exceeds the ${limit} byte cap`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        reject(new Error(`response body exceeds the ${limit} byte cap`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

/** Creates a transport with its own keep-alive agents (closed by `close()`). */
export function createNodeTransport(): NodeTransport {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
  const agents = { 'http:': new http.Agent(options), 'https:': new https.Agent(options) };

  function request(url: string | URL, init: TransportRequest): Promise<TransportResponse> {
    const target = typeof url === 'string' ? new URL(url) : url;
    const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
    const client = protocol === 'https:' ? https : http;
    if (init.signal?.aborted === true) return Promise.reject(new Error('the call was aborted'));
    return new Promise((resolve, reject) => {
      const call = client.request(target, {
        method: init.method,
        headers: init.headers,
        agent: agents[protocol],
      });
      const fail = (error: Error): void => {
        finish();
        call.destroy();
        reject(error);
      };
      const onAbort = (): void => fail(new Error('the call was aborted'));
      const timer = setTimeout(
        () => fail(new TransportTimeout('the IdP did not answer in time')),
        init.timeoutMs,
      );
      function finish(): void {
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', onAbort);
      }
      call.on('error', fail);
      init.signal?.addEventListener('abort', onAbort, { once: true });
      call.on('response', (response) => {
        readBody(response, init.maxResponseBytes).then((body) => {
          finish();
          resolve({ status: response.statusCode ?? 0, headers: toHeaders(response.headers), body });
        }, fail);
      });
      call.end(init.body);
    });
  }

  return {
    request,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
