/**
 * API instances as separate processes for the fleet suite: a built quote API example
 * (`examples/<name>/dist/server.js`, built by `npm test`'s typecheck or `npm run build`)
 * started with the caller's environment on a free port, and stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './support.js';

/** A running instance. */
export interface Instance {
  readonly name: string;
  readonly port: number;
  /** What it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the example `name` with `env` (plus PORT) and resolves once it listens. */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const script = fileURLToPath(new URL(`../../examples/${name}/dist/server.js`, import.meta.url));
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, NODE_OPTIONS: '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = exited.then(() => Promise.reject(new Error(`${name} exited:\n${output}`)));
  failed.catch(() => undefined);
  await Promise.race([waitForPort(port, 30_000), failed]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${String(error)}\n${output}`);
  });
  return {
    name,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
