/**
 * Every call zitauth makes to the IdP goes through `idpFetch`: it has a timeout, follows
 * no redirects (a redirect could carry client credentials to another host), caps the
 * body it reads (a hostile or broken IdP must not exhaust memory) and is aborted when
 * the owner shuts down. Network failures, timeouts, 5xx answers and unreadable bodies
 * become `UpstreamError`, so an IdP outage is never mistaken for a bad token.
 */
import { UpstreamError } from '../errors.js';
import { TransportTimeout, type NodeTransport } from './node-transport.js';

/** The `fetch` signature zitauth needs; inject your own for proxies or tests. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Settings shared by every IdP call of one verifier or client. */
export interface HttpOptions {
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time limit of one IdP call, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** Largest response body read from the IdP, in bytes. @default 1048576 (1 MiB) */
  maxResponseBytes?: number;
  /** Aborts every call in flight (the owner's shutdown signal). */
  signal?: AbortSignal;
  /** Keep-alive `node:http` client used instead of `fetch` when no `fetch` is given. */
  transport?: NodeTransport;
}

/** One response from the IdP, body already read within the size cap. */
export interface IdpResponse {
  status: number;
  headers: Headers;
  body: string;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Reads a body up to `limit` bytes; throws once it grows past it. */
async function readCapped(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`response body of ${declared} bytes exceeds the ${limit} byte cap`);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`response body exceeds the ${limit} byte cap`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The statuses no caller may see: redirects are never followed, 5xx is an outage. The
 * error keeps the status as `idpStatus`, so a traced call still reports what the IdP said.
 */
function checkStatus(status: number): void {
  if (status >= 300 && status < 400) {
    throw Object.assign(new Error(`unexpected redirect (${status}) from the IdP`), {
      idpStatus: status,
    });
  }
  if (status >= 500) {
    throw Object.assign(new Error(`the IdP answered ${status}`), { idpStatus: status });
  }
}

/**
 * `fetch` with a timeout of its own: the timer is cleared and the owner's signal let go
 * as soon as the answer is read, so a call leaves nothing behind (`AbortSignal.timeout`
 * would keep a timer for the full timeout after every call).
 */
async function viaFetch(
  url: string | URL,
  init: RequestInit,
  options: HttpOptions,
): Promise<IdpResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const onAbort = (): void => controller.abort();
  if (options.signal?.aborted === true) controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const doFetch = options.fetch ?? globalThis.fetch;
  try {
    const response = await doFetch(url, { ...init, redirect: 'manual', signal: controller.signal });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      checkStatus(response.status);
    }
    const body = await readCapped(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    checkStatus(response.status);
    return { status: response.status, headers: response.headers, body };
  } catch (cause) {
    throw new UpstreamError(timedOut ? 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' : 'ERR_ZITAUTH_UPSTREAM', {
      cause,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function viaTransport(
  transport: NodeTransport,
  url: string | URL,
  init: RequestInit,
  options: HttpOptions,
): Promise<IdpResponse> {
  try {
    const response = await transport.request(url, {
      method: init.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init.headers)),
      body: init.body as string | undefined,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      signal: options.signal,
    });
    checkStatus(response.status);
    return response;
  } catch (cause) {
    const timedOut = cause instanceof TransportTimeout;
    throw new UpstreamError(timedOut ? 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' : 'ERR_ZITAUTH_UPSTREAM', {
      cause,
    });
  }
}

/**
 * Calls the IdP. Resolves with any status below 500 (the caller decides what a 4xx
 * means); rejects with `UpstreamError` on network errors, timeouts, aborts, redirects,
 * 5xx and bodies over the cap. Without a `fetch` but with a `transport` (a verifier's
 * own keep-alive client), text bodies go through the transport.
 */
export async function idpFetch(
  url: string | URL,
  init: RequestInit,
  options: HttpOptions = {},
): Promise<IdpResponse> {
  const { transport } = options;
  if (options.fetch === undefined && transport !== undefined) {
    if (init.body === undefined || init.body === null || typeof init.body === 'string') {
      return viaTransport(transport, url, init, options);
    }
  }
  return viaFetch(url, init, options);
}

/** Parses a JSON object body; anything else (garbage, arrays, null) is an upstream fault. */
export function parseJsonObject(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    // JSON.parse's message quotes the start of the body; a broken IdP or proxy may echo
    // the request (and so the token) back, so the cause says only what went wrong.
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the IdP answered with a body that is not JSON'),
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
      cause: new Error('the IdP answered with a JSON value that is not an object'),
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Seconds from a `Cache-Control` header's `max-age` (or `s-maxage`), or undefined when
 * absent. `no-store`/`no-cache` count as zero.
 */
export function cacheControlMaxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  const directives = header
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const directive of directives) {
    const match = /^(?:max-age|s-maxage)=(\d+)$/.exec(directive);
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  return undefined;
}
