// The fleet benchmark: quote API instances (Express, Koa, Fastify examples, separate
// processes) behind a real nginx round-robin upstream, with and without a shared Redis,
// against the testing IdP. Reports requests per second through nginx for 1 and 3
// instances, IdP introspections per distinct token, and the added latency of a Redis hit
// over an in-process hit. Needs nginx and redis-server (Debian packages) and a build.
//   npm run bench:fleet            (BENCH_DURATION_MS, BENCH_CONNECTIONS to tune; the
//                                  instances read REDIS_COMMAND_TIMEOUT_MS, default 50)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createRedisStore } from '@zitauth/redis';
import { startTestIdp } from '@zitauth/testing';
import { runLoad } from './load.js';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const EXAMPLES = ['express-quotes', 'koa-quotes', 'fastify-quotes'];

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every process started here, killed on exit even when a scenario fails. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns `command` and resolves once something answers on `port` (a loaded host may take a while). */
async function started(command, args, port, env = process.env) {
  const child = spawn(command, args, { env, stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  for (let i = 0; i < 1200; i += 1) {
    const open = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (open) return child;
    if (child.exitCode !== null) throw new Error(`${command} exited`);
    await sleep(50);
  }
  throw new Error(`${command} did not start on ${port}`);
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zitauth-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
  const child = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  children.add(child);
  const store = createRedisStore({ url: `redis://127.0.0.1:${port}` });
  while (!(await store.ping())) await sleep(20);
  await store.close();
  return { url: `redis://127.0.0.1:${port}`, child, dir };
}

async function startInstances(count, env) {
  return Promise.all(
    EXAMPLES.slice(0, count).map(async (name) => {
      const port = await freePort();
      const script = fileURLToPath(new URL(`../examples/${name}/dist/server.js`, import.meta.url));
      const child = await started(process.execPath, [script], port, {
        ...process.env,
        ...env,
        PORT: String(port),
      });
      return { port, child };
    }),
  );
}

async function startNginx(instances) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zitauth-bench-nginx-'));
  const servers = instances.map((i) => `server 127.0.0.1:${i.port};`).join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir};
  fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream fleet { ${servers} keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://fleet; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`,
  );
  const args = ['-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')];
  const child = await started('nginx', [...args, '-g', 'daemon off;'], port);
  return { port, child, dir };
}

/** IdP introspections per distinct token: `tokens` fresh tokens, each asked 9 times at once. */
async function callsPerToken(idp, port, tokens) {
  const fresh = await Promise.all(
    Array.from({ length: tokens }, () => idp.mintAccessToken({ format: 'opaque' })),
  );
  idp.resetCalls();
  await Promise.all(
    fresh.flatMap((token) =>
      Array.from({ length: 9 }, () =>
        fetch(`http://127.0.0.1:${port}/api/me`, {
          headers: { authorization: `Bearer ${token}` },
        }).then((response) => response.arrayBuffer()),
      ),
    ),
  );
  return idp.calls('introspect') / tokens;
}

async function scenario(idp, env, count, withRedis) {
  const redis = withRedis ? await startRedis() : undefined;
  const instances = await startInstances(count, redis ? { ...env, REDIS_URL: redis.url } : env);
  const nginx = await startNginx(instances);
  try {
    const perToken = await callsPerToken(idp, nginx.port, 50);
    const token = await idp.mintAccessToken({ format: 'opaque' });
    const headers = { authorization: `Bearer ${token}` };
    const load = { port: nginx.port, path: '/api/me', headers, connections };
    await runLoad({ ...load, durationMs: Math.min(1000, durationMs) }); // warm-up
    const result = await runLoad({ ...load, durationMs });
    if ((result.statuses[200] ?? 0) !== result.requests) {
      throw new Error(`not every answer was 200: ${JSON.stringify(result.statuses)}`);
    }
    return { instances: count, redis: withRedis, perToken, ...result };
  } finally {
    await stop(nginx.child);
    await Promise.all(instances.map((i) => stop(i.child)));
    if (redis) await stop(redis.child);
    for (const dir of [nginx.dir, redis?.dir])
      if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Mean microseconds of an in-process hit and of a Redis hit (a local miss on another instance). */
async function hitLatency() {
  const redis = await startRedis();
  const writer = createRedisStore({ url: redis.url, commandTimeoutMs: 1000 });
  const reader = createRedisStore({ url: redis.url, commandTimeoutMs: 1000 });
  while (!(await writer.ping()) || !(await reader.ping())) await sleep(20);
  const n = 5000;
  const value = { active: true, kind: 'opaque', claims: { sub: 'u', exp: 2e9, scope: 'openid' } };
  for (let i = 0; i < n; i += 1) await writer.set(`k${i}`, value, 60_000);
  let started = performance.now();
  for (let i = 0; i < n; i += 1) await writer.get(`k${i}`);
  const localUs = ((performance.now() - started) * 1000) / n;
  started = performance.now();
  for (let i = 0; i < n; i += 1) await reader.get(`k${i}`);
  const redisUs = ((performance.now() - started) * 1000) / n;
  await Promise.all([writer.close(), reader.close()]);
  await stop(redis.child);
  rmSync(redis.dir, { recursive: true, force: true });
  return { localUs, redisUs };
}

const idp = await startTestIdp();
const app = idp.createApiApp({ auth: 'basic' });
const env = {
  ZITADEL_ISSUER: idp.issuer,
  ZITADEL_PROJECT_ID: idp.defaultProject.id,
  ZITADEL_CLIENT_ID: app.clientId,
  ZITADEL_CLIENT_SECRET: app.clientSecret,
};
const results = [];
for (const [count, withRedis] of [
  [1, false],
  [1, true],
  [3, false],
  [3, true],
]) {
  results.push(await scenario(idp, env, count, withRedis));
}
const latency = await hitLatency();
await idp.close();

console.log(
  `\n${connections} connections, ${durationMs} ms per scenario, Node ${process.version}\n`,
);
console.log(
  'instances'.padEnd(11) +
    'redis'.padEnd(7) +
    'IdP calls/token'.padStart(16) +
    'req/s'.padStart(10) +
    'p50 ms'.padStart(9) +
    'p99 ms'.padStart(9),
);
for (const r of results) {
  console.log(
    String(r.instances).padEnd(11) +
      (r.redis ? 'yes' : 'no').padEnd(7) +
      r.perToken.toFixed(2).padStart(16) +
      r.rps.toFixed(0).padStart(10) +
      r.p50Ms.toFixed(2).padStart(9) +
      r.p99Ms.toFixed(2).padStart(9),
  );
}
console.log(
  `\ncache hit: in-process ${latency.localUs.toFixed(1)} µs, Redis ${latency.redisUs.toFixed(1)} µs ` +
    `(+${(latency.redisUs - latency.localUs).toFixed(1)} µs per request that misses locally)`,
);
