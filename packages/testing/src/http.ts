/**
 * Small HTTP helpers for the handlers: bounded body reading, strict form parsing, and
 * JSON/HTML/redirect answers. Bodies are capped because a test IdP still faces hostile
 * input in fuzzing and conformance tests; every failure becomes an `HttpError` that the
 * server turns into a JSON answer instead of a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body read, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An answer with an RFC 6749-style error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description ?? error);
  }
}

export function invalidRequest(description: string): HttpError {
  return new HttpError(400, 'invalid_request', description);
}

/** Reads the body, refusing more than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, 'invalid_request', 'request body too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new HttpError(413, 'invalid_request', 'request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses `application/x-www-form-urlencoded` params; a repeated param is an error (RFC 6749 §3.1). */
export function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name)) throw invalidRequest(`parameter ${name} is repeated`);
    params.set(name, value);
  }
  return params;
}

/** Reads a form body; anything but a form content type is refused. */
export async function readForm(req: IncomingMessage): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('content type must be application/x-www-form-urlencoded');
  }
  return parseParams((await readBody(req)).toString('utf8'));
}

/** Query params (GET) or form params (POST), for endpoints that take both. */
export async function readParams(req: IncomingMessage, url: URL): Promise<Map<string, string>> {
  if (req.method === 'POST') return readForm(req);
  return parseParams(url.search);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const rewrite = rewrites.get(res);
  const text = JSON.stringify(rewrite === undefined ? body : rewrite.body(body));
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
    ...(rewrite?.contentType === undefined ? {} : { 'Content-Type': rewrite.contentType }),
  });
  res.end(text);
}

/** How a fault changes the normal JSON answer of one response. */
export interface AnswerRewrite {
  body: (body: unknown) => unknown;
  contentType: string | undefined;
}

/**
 * Rewrites a response's normal JSON answer (fault injection: a missing field, an extra
 * one, a wrong content type), so a test gets a real answer with exactly one thing wrong.
 */
const rewrites = new WeakMap<ServerResponse, AnswerRewrite>();

/** Registers how `sendJson` must alter the answer of `res`. */
export function rewriteAnswer(res: ServerResponse, rewrite: AnswerRewrite): void {
  rewrites.set(res, rewrite);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    // No form-action: browsers apply it to the redirect after login, which leaves this origin.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'X-Frame-Options': 'DENY',
  });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
