/**
 * Fault injection and call counting per endpoint. Clients must survive a slow, failing or
 * lying IdP (timeouts, 5xx, bodies that are not JSON or far too large, dropped
 * connections); a fault runs before the endpoint's handler, and every request is counted,
 * faulted or not, so tests can assert how often a client called.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rewriteAnswer } from './http.js';
import type { Endpoint, Fault } from './types.js';

const HUGE_BYTES = 4 * 1024 * 1024;

export class FaultRegistry {
  readonly #faults = new Map<Endpoint, Fault>();
  readonly #remaining = new Map<Endpoint, number>();
  readonly #calls = new Map<Endpoint, number>();

  set(endpoint: Endpoint, fault: Fault): void {
    this.#faults.set(endpoint, { ...fault });
    if (fault.times === undefined) this.#remaining.delete(endpoint);
    else this.#remaining.set(endpoint, fault.times);
  }

  clear(endpoint?: Endpoint): void {
    if (endpoint === undefined) {
      this.#faults.clear();
      this.#remaining.clear();
    } else {
      this.#faults.delete(endpoint);
      this.#remaining.delete(endpoint);
    }
  }

  /** Counts a call and returns the fault to apply to it, if any (using up one of `times`). */
  take(endpoint: Endpoint): Fault | undefined {
    this.#calls.set(endpoint, this.calls(endpoint) + 1);
    const fault = this.#faults.get(endpoint);
    const left = this.#remaining.get(endpoint);
    if (fault === undefined || left === undefined) return fault;
    if (left <= 1) this.clear(endpoint);
    else this.#remaining.set(endpoint, left - 1);
    return left >= 1 ? fault : undefined;
  }

  calls(endpoint: Endpoint): number {
    return this.#calls.get(endpoint) ?? 0;
  }

  resetCalls(): void {
    this.#calls.clear();
  }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function faultBody(body: Fault['body']): string {
  if (body === 'garbage') return '\u0000<html>not json {{{ ' + '\u00ff'.repeat(16);
  if (body === 'huge') return `{"padding":"${'x'.repeat(HUGE_BYTES)}"}`;
  if (body !== undefined) return body;
  return JSON.stringify({ error: 'server_error', error_description: 'injected fault' });
}

/** Resolves when the client goes away or the IdP shuts down, whichever comes first. */
function hangUp(req: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || req.socket.destroyed) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    req.socket.once('close', () => resolve());
  });
}

/** The normal answer with fields removed or added, for `omitFields` / `addFields`. */
function editFields(fault: Fault): (body: unknown) => unknown {
  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const edited: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const name of fault.omitFields ?? []) delete edited[name];
    return { ...edited, ...fault.addFields };
  };
}

/**
 * Applies a fault. Resolves true when the fault answered (or dropped) the request, false
 * when the normal handler should run (latency, or an edit of its answer).
 */
export async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<boolean> {
  if (fault.latencyMs !== undefined && fault.latencyMs > 0) await delay(fault.latencyMs, signal);
  if (fault.hang === true) await hangUp(req, signal);
  if (signal.aborted || fault.closeConnection === true || fault.hang === true) {
    req.socket.destroy();
    return true;
  }
  if (fault.status === undefined && fault.body === undefined) {
    rewriteAnswer(res, { body: editFields(fault), contentType: fault.contentType });
    return false;
  }
  const body = faultBody(fault.body);
  res.writeHead(fault.status ?? 200, {
    'Content-Type': fault.contentType ?? 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
  return true;
}
