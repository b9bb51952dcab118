/**
 * Reading request values without ambiguity. A header or query parameter sent twice is
 * not "the first one": a proxy and the gateway could each pick a different copy, so
 * values that carry credentials or decisions must be sent exactly once.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

/**
 * Every value of a header. Node's `req.headers` joins or drops repeats depending on the
 * header; `headersDistinct` keeps them all, and `inject()` requests, which lack it, still
 * have `rawHeaders`.
 */
export function headerValues(raw: IncomingMessage, name: string): string[] {
  if (raw.headersDistinct !== undefined) return raw.headersDistinct[name] ?? [];
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]?.toLowerCase() === name) values.push(raw.rawHeaders[i + 1] ?? '');
  }
  return values;
}

/** The header's value when sent exactly once, else undefined. */
export function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const values = headerValues(request.raw, name);
  return values.length === 1 ? values[0] : undefined;
}

/** The raw query of the request URL, as sent. */
export function rawQuery(request: FastifyRequest): URLSearchParams {
  const start = request.url.indexOf('?');
  return new URLSearchParams(start < 0 ? '' : request.url.slice(start + 1));
}

/** A query parameter's value: `undefined` when absent, `null` when sent more than once. */
export function singleParam(query: URLSearchParams, name: string): string | undefined | null {
  const values = query.getAll(name);
  if (values.length > 1) return null;
  return values[0];
}
