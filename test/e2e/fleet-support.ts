/**
 * Processes for the fleet suites: a built quote API example
 * (`examples/<name>/dist/server.js`, built by `npm test`'s typecheck or `npm run build`), or
 * any built Node script such as the gateway's command, started with the caller's
 * environment on a free port, stopped with SIGTERM or killed outright.
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
  /** SIGKILL: the process dies at once, mid-request if need be. */
  kill(): Promise<void>;
}

/** Starts the built script with the environment `envFor(port)` gives; resolves once it listens. */
export async function startNodeScript(
  name: string,
  script: string,
  envFor: (port: number) => Record<string, string>,
): Promise<Instance> {
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, NODE_OPTIONS: '', ...envFor(port) },
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
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts the example `name` with `env` (plus PORT) and resolves once it listens. */
export function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const script = fileURLToPath(new URL(`../../examples/${name}/dist/server.js`, import.meta.url));
  return startNodeScript(name, script, (port) => ({ ...env, PORT: String(port) }));
}
