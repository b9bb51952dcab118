/**
 * Shared pieces of the end-to-end suites: real processes and real ports on 127.0.0.1.
 * The suites need Debian's nginx and Chromium; when one is missing they fail with the
 * command that installs it, because a skipped end-to-end test looks like a passing one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where screenshots and server logs of failed runs go (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** Throws unless `command` runs; the message says how to install it. */
export function requireExecutable(command: string, args: string[], install: string): void {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${command} is not available (${install}); the end-to-end suite needs it`);
  }
}

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once something accepts connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A running nginx. */
export interface Nginx {
  readonly url: string;
  /** nginx's error log, for failure messages. */
  errors(): string;
  stop(): Promise<void>;
}

/** A fresh temp dir for nginx's config, logs and temp files. */
function nginxDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zitauth-nginx-'));
  // Workers drop to an unprivileged user when nginx starts as root: they must reach the dir.
  chmodSync(dir, 0o755);
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, sub));
    chmodSync(join(dir, sub), 0o777);
  }
  return dir;
}

/** The whole nginx.conf: every path inside `dir`, then the caller's `http {}` body. */
function nginxConf(dir: string, http: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}
}
`;
}

/**
 * Runs nginx in the foreground with `http` (the body of its `http {}` block, which must
 * `listen` on `port`) and every path it writes inside a fresh temp dir.
 */
export async function startNginx(port: number, http: (dir: string) => string): Promise<Nginx> {
  const dir = nginxDir();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(dir, http(dir)));
  const child: ChildProcess = spawn(
    'nginx',
    ['-p', dir, '-e', `${dir}/error.log`, '-c', conf, '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errors = (): string => {
    const log = join(dir, 'error.log');
    return `${stderr}\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`;
  };
  const failed = exited.then(() =>
    Promise.reject(new Error(`nginx exited at start:\n${errors()}`)),
  );
  await Promise.race([waitForPort(port), failed]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  failed.catch(() => undefined); // exiting later is stop()'s business
  return {
    url: `http://127.0.0.1:${port}`,
    errors,
    stop: async () => {
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
