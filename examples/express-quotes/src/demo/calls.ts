/**
 * The demo's script: which caller calls which route, and what the API must answer. Each
 * expectation names the status and, for refusals, the challenge: a 401 without a token
 * must carry the bare `Bearer realm="api"` (RFC 6750 §3.1: no error code when no
 * credentials were sent), a 401 with a bad token `invalid_token`, a 403 `insufficient_scope`.
 */
import type { SampleCallers } from '@zitauth/example-quotes-common';

/** One scripted request and the answer it must get. */
export interface DemoCall {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Who calls, as printed. */
  readonly caller: string;
  /** What is special about this call, as printed after the caller. */
  readonly note?: string;
  readonly token?: string;
  readonly body?: unknown;
  readonly expectStatus: number;
  /** The `WWW-Authenticate` value must equal this (a string) or match it (a RegExp). */
  readonly expectChallenge?: string | RegExp;
}

/** What the API answered. The token is not kept: nothing here may print it. */
export interface Outcome {
  readonly status: number;
  readonly challenge: string | undefined;
  readonly body: unknown;
}

const QUOTE = { text: 'Tokens are like milk: best fresh.', author: 'A careful API' };

/** The calls, in order: anonymous, bad tokens, then each caller doing what it may and may not. */
export function demoCalls(callers: SampleCallers): DemoCall[] {
  const { editor, reader, bot, expired } = callers;
  const as = (c: { name: string; token: string }, kind: string) => ({
    caller: `${c.name} (${kind})`,
    token: c.token,
  });
  return [
    { method: 'GET', path: '/api/public', caller: 'anonymous', expectStatus: 200 },
    {
      method: 'GET',
      path: '/api/quote',
      caller: 'anonymous',
      expectStatus: 401,
      expectChallenge: 'Bearer realm="api"',
    },
    {
      method: 'GET',
      path: '/api/quote',
      ...as(expired, 'expired JWT'),
      expectStatus: 401,
      expectChallenge: /error="invalid_token"/,
    },
    { method: 'GET', path: '/api/quote', ...as(editor, 'JWT'), expectStatus: 200 },
    { method: 'GET', path: '/api/quote', ...as(bot, 'opaque PAT'), expectStatus: 200 },
    { method: 'GET', path: '/api/me', ...as(reader, 'JWT'), expectStatus: 200 },
    {
      method: 'POST',
      path: '/api/quotes',
      ...as(reader, 'JWT'),
      body: QUOTE,
      expectStatus: 403,
      expectChallenge: /error="insufficient_scope"/,
    },
    {
      method: 'POST',
      path: '/api/quotes',
      ...as(editor, 'JWT'),
      body: { text: '' },
      note: 'empty text',
      expectStatus: 400,
    },
    { method: 'POST', path: '/api/quotes', ...as(editor, 'JWT'), body: QUOTE, expectStatus: 201 },
    {
      method: 'POST',
      path: '/api/quotes',
      ...as(bot, 'opaque PAT'),
      body: QUOTE,
      expectStatus: 201,
    },
  ];
}

/** Sends one call to the API at `baseUrl`. */
export async function perform(call: DemoCall, baseUrl: string): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (call.token !== undefined) headers['authorization'] = `Bearer ${call.token}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${call.path}`, {
    method: call.method,
    headers,
    ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text, the report shows it as is.
  }
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate') ?? undefined,
    body,
  };
}

/** Whether the API answered as the script expects. */
export function answeredAsExpected(call: DemoCall, outcome: Outcome): boolean {
  if (outcome.status !== call.expectStatus) return false;
  const expected = call.expectChallenge;
  if (expected === undefined) return true;
  if (outcome.challenge === undefined) return false;
  return typeof expected === 'string'
    ? outcome.challenge === expected
    : expected.test(outcome.challenge);
}
