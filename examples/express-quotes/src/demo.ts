/**
 * `npm start`: the zitauth demo. Starts a local test IdP and the Express quote API,
 * shows callers with and without the right role getting 200, 401 and 403 (and why), prints
 * commands to try it by hand, and serves until Ctrl-C.
 *
 *   node examples/express-quotes/dist/demo.js          serve on PORT (default 3000) until Ctrl-C
 *   node examples/express-quotes/dist/demo.js --once   play the calls, exit 0 only if all answered as expected
 */
import { onShutdown } from '@zitauth/example-quotes-common';
import { runDemo } from './demo/run.js';

const USAGE = 'usage: demo [--once]   (PORT sets the API port, default 3000)';

/** The PORT variable, if set. */
function port(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    console.error(`demo: PORT must be a port number from 0 to 65535, got "${value.slice(0, 20)}"`);
    process.exit(1);
  }
  return parsed;
}

async function main(args: string[]): Promise<void> {
  const unknown = args.filter((arg) => arg !== '--once');
  if (unknown.length > 0) {
    console.error(`demo: unknown argument ${unknown[0]}\n${USAGE}`);
    process.exit(2);
  }
  const once = args.includes('--once');
  // A fixed port keeps the printed curl lines stable; --once needs none, so any free one does.
  const explicit = port(process.env['PORT']);
  const run = await runDemo({
    once,
    port: explicit ?? (once ? 0 : 3000),
    anyPortIfBusy: explicit === undefined,
  });
  process.exitCode = run.ok ? 0 : 1;
  if (once) return;
  console.log('\nThe API keeps running; Ctrl-C to stop.');
  onShutdown(() => run.close());
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error('demo failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
