/**
 * How the demo prints: one aligned line per call (mark, status, method, path, caller),
 * then the reason: for a refusal the challenge and the JSON body as sent, for a success a
 * one-line summary of the body. Only answers are printed, never requests, so no token
 * reaches the log (the sample commands are the one deliberate exception, in `samples.ts`).
 */
import type { SampleCallers } from '@zitauth/example-quotes-common';
import type { DemoCall, Outcome } from './calls.js';

/** The longest body excerpt printed, in characters. */
const MAX_BODY = 110;
const DETAIL_INDENT = ' '.repeat(10);

function pad(value: string, width: number): string {
  return value.padEnd(width);
}

function clip(text: string, max = MAX_BODY): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Reads `path` from a parsed JSON body as a string; undefined when absent. */
function text(body: unknown, ...path: string[]): string | undefined {
  let value: unknown = body;
  for (const key of path) {
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[key]
        : undefined;
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function quoteOf(body: unknown): string {
  return `"${clip(text(body, 'quote', 'text') ?? '?', 50)}" (${text(body, 'quote', 'author') ?? '?'})`;
}

function rolesOf(body: unknown): string {
  const roles =
    typeof body === 'object' && body !== null ? (body as { roles?: unknown }).roles : undefined;
  const names = typeof roles === 'object' && roles !== null ? Object.keys(roles) : [];
  return names.length > 0 ? names.join(', ') : 'none';
}

/** A one-line reading of a successful answer, by route. */
function successSummary(call: DemoCall, body: unknown): string {
  switch (`${call.method} ${call.path}`) {
    case 'GET /api/public':
      return quoteOf(body);
    case 'GET /api/quote':
      return `${quoteOf(body)}, asked by ${text(body, 'askedBy', 'subject')} (${text(body, 'askedBy', 'tokenKind')} token)`;
    case 'GET /api/me':
      return `subject ${text(body, 'subject')}, roles: ${rolesOf(body)}, token: ${text(body, 'tokenKind')}, expires ${text(body, 'expiresAt')}`;
    case 'POST /api/quotes':
      return `added quote #${text(body, 'quote', 'id')}, by ${text(body, 'quote', 'addedBy')}`;
    default:
      return clip(JSON.stringify(body));
  }
}

/** The header: what runs where. */
export function headerLines(idpUrl: string, apiUrl: string, apiClientId: string): string[] {
  return [
    'zitauth demo: an Express quote API protected by ZITADEL-style access tokens',
    '',
    `  IdP  ${pad(idpUrl, 24)} local ZITADEL-compatible test IdP (@zitauth/testing)`,
    `  API  ${pad(apiUrl, 24)} @zitauth/express; opaque tokens introspected as ${apiClientId}`,
    '',
  ];
}

/** Who calls, and with what kind of token. */
export function callerLines(callers: SampleCallers): string[] {
  const list = [callers.editor, callers.reader, callers.bot];
  const width = Math.max(...list.map((c) => c.name.length), 'anonymous'.length);
  return [
    'Callers (test tokens minted by the local IdP)',
    ...list.map((c) => `  ${pad(c.name, width)}  ${c.description}`),
    `  ${pad('anonymous', width)}  no token at all`,
    '',
  ];
}

/** The line and reason lines for one call. */
export function callLines(call: DemoCall, outcome: Outcome, ok: boolean): string[] {
  const mark = ok ? '✓' : '✗';
  const expected = ok ? '' : `   (expected ${call.expectStatus})`;
  const lines = [
    `  ${mark} ${outcome.status}  ${pad(call.method, 4)} ${pad(call.path, 12)} ${call.caller}${call.note === undefined ? '' : `, ${call.note}`}${expected}`,
  ];
  if (outcome.challenge !== undefined) {
    lines.push(`${DETAIL_INDENT}WWW-Authenticate: ${outcome.challenge}`);
  }
  const success = outcome.status >= 200 && outcome.status < 300;
  const body = typeof outcome.body === 'string' ? outcome.body : JSON.stringify(outcome.body);
  lines.push(`${DETAIL_INDENT}${success ? successSummary(call, outcome.body) : clip(body)}`);
  return lines;
}

/** The closing verdict. */
export function summaryLine(passed: number, total: number): string {
  return passed === total
    ? `${passed} of ${total} calls answered as expected.`
    : `${total - passed} of ${total} calls did NOT answer as expected (marked ✗).`;
}
