/**
 * Every call zitauth makes to the IdP goes through `idpFetch`: it has a timeout, follows
 * no redirects (a redirect could carry client credentials to another host), caps the
 * body it reads (a hostile or broken IdP must not exhaust memory) and is aborted when
 * the owner shuts down. Network failures, timeouts, 5xx answers and unreadable bodies
 * become `UpstreamError`, so an IdP outage is never mistaken for a bad token.
 */
import { UpstreamError } from './errors.js';

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
 * Calls the IdP. Resolves with any status below 500 (the caller decides what a 4xx
 * means); rejects with `UpstreamError` on network errors, timeouts, aborts, redirects,
 * 5xx and bodies over the cap.
 */
export async function idpFetch(
  url: string | URL,
  init: RequestInit,
  options: HttpOptions = {},
): Promise<IdpResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal =
    options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  const doFetch = options.fetch ?? globalThis.fetch;
  try {
    const response = await doFetch(url, { ...init, redirect: 'manual', signal });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`unexpected redirect (${response.status}) from the IdP`);
    }
    const body = await readCapped(response, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    if (response.status >= 500) {
      throw new Error(`the IdP answered ${response.status}`);
    }
    return { status: response.status, headers: response.headers, body };
  } catch (cause) {
    const timedOut = timeout.aborted;
    throw new UpstreamError(timedOut ? 'ERR_ZITAUTH_UPSTREAM_TIMEOUT' : 'ERR_ZITAUTH_UPSTREAM', {
      cause,
    });
  }
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
