/**
 * The `npm start` demo, run in-process in its non-interactive form: every scripted call
 * must answer as expected (200/201 for allowed callers, 401 with the right challenge,
 * 403 without `editor`, 400 on a bad body), the output must show those statuses, and
 * no token may appear in it (tokens are printed only in interactive mode, for curl).
 * The built command is run too, as a child process, for its exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../examples/express-quotes/src/demo/run.js';

const DEMO_CLI = fileURLToPath(new URL('../examples/express-quotes/dist/demo.js', import.meta.url));

describe('demo', () => {
  it('answers every scripted call as expected and stops', async () => {
    const lines: string[] = [];
    const run = await runDemo({ once: true, log: (line) => lines.push(line) });
    const output = lines.join('\n');

    expect(run.ok).toBe(true);
    expect(run.results.map((r) => r.outcome.status)).toEqual([
      200, 401, 401, 200, 200, 200, 403, 400, 201, 201,
    ]);
    expect(output).toMatch(
      /✓ 401 {2}GET {2}\/api\/quote {3}anonymous\n +WWW-Authenticate: Bearer realm="api"\n/,
    );
    expect(output).toContain('error="insufficient_scope"');
    expect(output).toContain('(opaque token)');
    expect(output).toContain('10 of 10 calls answered as expected.');
    expect(output).not.toContain('✗');
    await expect(fetch(`${run.url}/api/public`)).rejects.toThrow();
  });

  it('keeps tokens out of the output of a non-interactive run', async () => {
    const lines: string[] = [];
    await runDemo({ once: true, log: (line) => lines.push(line) });
    const output = lines.join('\n');
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT
    expect(output).not.toContain('export ');
  });

  it('takes a free port when the requested one is busy, if allowed', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      await expect(runDemo({ once: true, port: busy, log: () => {} })).rejects.toThrow(
        /EADDRINUSE/,
      );
      const lines: string[] = [];
      const run = await runDemo({
        once: true,
        port: busy,
        anyPortIfBusy: true,
        log: (line) => lines.push(line),
      });
      expect(run.ok).toBe(true);
      expect(run.url).not.toBe(`http://127.0.0.1:${busy}`);
      expect(lines[0]).toBe(`(port ${busy} is in use; the API takes a free port instead)`);
    } finally {
      blocker.close();
    }
  });

  it('serves until closed and prints ready-to-paste commands with test tokens', async () => {
    const lines: string[] = [];
    const run = await runDemo({ log: (line) => lines.push(line) });
    try {
      const output = lines.join('\n');
      expect(output).toContain('Test tokens from the local IdP');
      expect(output).toMatch(/export EDITOR_TOKEN='eyJ/);
      expect(output).toContain(
        `curl -i ${run.url}/api/quote -H "Authorization: Bearer $BOT_TOKEN"`,
      );
      const response = await fetch(`${run.url}/api/public`);
      expect(response.status).toBe(200);
    } finally {
      await run.close();
    }
  });
});

/**
 * The command `npm run demo:once` runs: the built CLI. `npm test` builds first; a run
 * without a build skips these rather than testing stale output.
 */
describe.skipIf(!existsSync(DEMO_CLI))('demo command (built)', () => {
  it('exits 0 after the calls with --once', () => {
    const result = spawnSync(process.execPath, [DEMO_CLI, '--once'], {
      encoding: 'utf8',
      env: { ...process.env, PORT: '0' },
      timeout: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('10 of 10 calls answered as expected.');
    expect(result.status).toBe(0);
  });

  it('exits 2 on an unknown argument', () => {
    const result = spawnSync(process.execPath, [DEMO_CLI, '--twice'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown argument --twice');
  });
});
