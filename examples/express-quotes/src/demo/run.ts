/**
 * `runDemo`: starts the local IdP and the Express quote API, plays the scripted calls
 * over real HTTP and reports each answer. With `once` it stops everything and returns;
 * otherwise it prints ready-to-paste commands and leaves the API running for the caller
 * to `close()`. Exported so tests can run it in-process.
 */
import { createVerifier } from '@zitauth/core';
import { createApp } from '../app.js';
import {
  listen,
  type Listening,
  createSampleCallers,
  startLocalIdp,
  sampleCommands,
} from '@zitauth/example-quotes-common';
import { answeredAsExpected, demoCalls, perform, type DemoCall, type Outcome } from './calls.js';
import { callerLines, callLines, headerLines, summaryLine } from './report.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Stop after the calls instead of serving until `close()`. @default false */
  once?: boolean;
  /** Port of the API on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** When `port` is taken, use a free one instead of failing. @default false */
  anyPortIfBusy?: boolean;
  /** Where output lines go. @default console.log */
  log?: (line: string) => void;
}

/** One call and what came back. */
export interface DemoResult {
  readonly call: DemoCall;
  readonly outcome: Outcome;
  readonly ok: boolean;
}

/** A finished (or still serving) demo. */
export interface DemoRun {
  /** Whether every call answered as expected. */
  readonly ok: boolean;
  readonly results: readonly DemoResult[];
  /** The API's base URL. */
  readonly url: string;
  /** Stops the API and the IdP (already done with `once`). */
  close(): Promise<void>;
}

async function play(
  calls: DemoCall[],
  url: string,
  log: (line: string) => void,
): Promise<DemoResult[]> {
  const results: DemoResult[] = [];
  log('Calls');
  // One after another: the output reads as a story, and POSTs land in a known order.
  for (const call of calls) {
    const outcome = await perform(call, url);
    const ok = answeredAsExpected(call, outcome);
    results.push({ call, outcome, ok });
    for (const line of callLines(call, outcome, ok)) log(line);
  }
  return results;
}

/** Listens on the requested port, or on a free one if it is taken and that is allowed. */
async function listenOn(
  handler: Parameters<typeof listen>[0],
  options: DemoOptions,
  log: (line: string) => void,
): Promise<Listening> {
  const port = options.port ?? 0;
  try {
    return await listen(handler, port);
  } catch (error) {
    const busy = (error as { code?: unknown }).code === 'EADDRINUSE';
    if (!busy || port === 0 || options.anyPortIfBusy !== true) throw error;
    log(`(port ${port} is in use; the API takes a free port instead)`);
    return listen(handler, 0);
  }
}

/** Runs the demo; resolves once the calls are done (and, with `once`, everything stopped). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoRun> {
  const log = options.log ?? ((line: string) => console.log(line));
  const local = await startLocalIdp();
  const verifier = createVerifier(local.verifierOptions);
  let http: Listening | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await http?.close();
      verifier.close();
      await local.idp.close();
    })());
  try {
    http = await listenOn(createApp({ auth: { verifier } }), options, log);
    const callers = await createSampleCallers(local.idp);
    for (const line of headerLines(local.idp.issuer, http.url, local.apiClientId)) log(line);
    for (const line of callerLines(callers)) log(line);
    const results = await play(demoCalls(callers), http.url, log);
    const passed = results.filter((r) => r.ok).length;
    log('');
    log(summaryLine(passed, results.length));
    if (options.once === true) {
      await close();
    } else {
      log('');
      log('Try it yourself:');
      for (const line of sampleCommands(http.url, callers)) log(line);
    }
    return { ok: passed === results.length, results, url: http.url, close };
  } catch (error) {
    await close();
    throw error;
  }
}
