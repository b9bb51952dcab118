/**
 * A Node request as core's `TokenRequest`: every `Authorization` and `DPoP` header from
 * the raw headers, and `access_token` from a parsed query or form body (core ignores
 * both unless enabled). Express, Koa and Fastify all hand this an `IncomingMessage`.
 */
import type { IncomingMessage } from 'node:http';
import type { TokenRequest } from '../types.js';

function strings(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

function field(source: unknown, name: string): unknown {
  return typeof source === 'object' && source !== null && Object.hasOwn(source, name)
    ? (source as Record<string, unknown>)[name]
    : undefined;
}

/** `key` is `name` (lower-case letters) in any case; `key` has `name`'s length. */
function isHeaderName(key: string, name: string): boolean {
  for (let i = 0; i < name.length; i += 1) {
    // Setting bit 0x20 lower-cases an ASCII letter and can turn no other character into one.
    if ((key.charCodeAt(i) | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** A header's values so far with one more: the first as a string, more as an array. */
function collect(values: string | string[] | undefined, value: string): string | string[] {
  if (values === undefined) return value;
  if (typeof values === 'string') return [values, value];
  values.push(value);
  return values;
}

/**
 * Every value of a header of a Node request, from `rawHeaders`: `req.headers` keeps only
 * the first `Authorization`, which would hide a second credential, and Fastify's
 * `inject()` requests lack `headersDistinct`. `name` is lower case.
 */
export function headerValues(message: IncomingMessage, name: string): string[] | undefined {
  // Cheaper than `headersDistinct`, which builds an array for every header of the
  // request on first use; this runs on every request.
  const raw = message.rawHeaders;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toLowerCase() === name) {
      (values ??= []).push(raw[i + 1]!);
    }
  }
  return values;
}

/** Methods whose request body has defined semantics (RFC 6750 §2.2 rules out GET). */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Whether a parsed body may carry a token: RFC 6750 §2.2 allows only a single-part
 * `application/x-www-form-urlencoded` body of a method that has one. A JSON field that
 * happens to be named `access_token` is application data, not a credential.
 */
export function isFormBody(message: IncomingMessage): boolean {
  if (!BODY_METHODS.has(message.method ?? '')) return false;
  const type = message.headers['content-type'];
  if (type === undefined) return false;
  return type.split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * The `TokenRequest` of a Node request: every `Authorization` header, plus `access_token`
 * from the parsed query, and from the parsed body when it is a form (core ignores both
 * unless enabled, but refuses a request that uses two methods either way).
 */
export function nodeTokenRequest(
  message: IncomingMessage,
  query?: unknown,
  body?: unknown,
): TokenRequest {
  // `Authorization` and `DPoP` in one pass over the raw headers (see headerValues); a
  // single value is kept as a string, and names are compared without lower-cased copies.
  let authorization: string | string[] | undefined;
  let dpop: string | string[] | undefined;
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === 13 && isHeaderName(key, 'authorization')) {
      authorization = collect(authorization, raw[i + 1]!);
    } else if (key.length === 4 && isHeaderName(key, 'dpop')) {
      dpop = collect(dpop, raw[i + 1]!);
    }
  }
  const request: TokenRequest = {
    authorization,
    headers: message.headers,
    // What a DPoP proof is checked against. Express rewrites `url` inside a mounted
    // router and keeps the client's target in `originalUrl`.
    dpop,
    method: message.method,
    path: (message as { originalUrl?: string }).originalUrl ?? message.url,
    secure: (message.socket as { encrypted?: boolean } | null)?.encrypted === true,
  };
  const fromQuery = strings(field(query, 'access_token'));
  if (fromQuery !== undefined) request.query = fromQuery;
  const fromBody = isFormBody(message) ? strings(field(body, 'access_token')) : undefined;
  if (fromBody !== undefined) request.body = fromBody;
  return request;
}
