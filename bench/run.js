// Benchmarks: the same GET /hello behind no auth (the bare framework), behind zitauth
// (with its verification cache, and with the cache off so every request verifies a
// signature), and behind the peer library of that framework, all in one run on one
// machine. Reports requests per second and the ratio to the bare framework.
//   npm run bench                      (BENCH_DURATION_MS, BENCH_CONNECTIONS to tune)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '@zitauth/testing';
import { runLoad } from './load.js';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const scenarios = [
  'express:bare',
  'express:zitauth',
  'express:zitauth-nocache',
  'express:auth0',
  'fastify:bare',
  'fastify:zitauth',
  'fastify:zitauth-nocache',
  'fastify:fastify-jwt',
  'koa:bare',
  'koa:zitauth',
  'koa:zitauth-nocache',
];
const only = process.argv[2];

async function startServer(scenario, env) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./server.js', import.meta.url)), scenario],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  for await (const chunk of child.stdout) {
    output += chunk;
    const match = /listening (\d+)/.exec(output);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${scenario} did not start`);
}

async function measure(scenario, env, token) {
  const { child, port } = await startServer(scenario, env);
  try {
    const headers = scenario.endsWith(':bare') ? {} : { authorization: `Bearer ${token}` };
    await runLoad({
      port,
      path: '/hello',
      headers,
      connections,
      durationMs: Math.min(1000, durationMs),
    }); // warm-up
    return await runLoad({ port, path: '/hello', headers, connections, durationMs });
  } finally {
    child.kill();
    await once(child, 'exit');
  }
}

const idp = await startTestIdp();
const token = await idp.mintAccessToken({ roles: ['reader'] });
const env = { BENCH_ISSUER: idp.issuer, BENCH_PROJECT_ID: idp.defaultProject.id };
const results = [];
for (const scenario of scenarios.filter((s) => !only || s.startsWith(only))) {
  const result = await measure(scenario, env, token);
  const ok = result.statuses[200] ?? 0;
  if (ok !== result.requests)
    throw new Error(`${scenario}: not every answer was 200: ${JSON.stringify(result.statuses)}`);
  results.push({ scenario, ...result });
}
await idp.close();

console.log(
  `\n${connections} connections, ${durationMs} ms per scenario, Node ${process.version}\n`,
);
console.log(
  'scenario'.padEnd(28) +
    'req/s'.padStart(10) +
    'p50 ms'.padStart(9) +
    'p99 ms'.padStart(9) +
    '  vs bare',
);
for (const r of results) {
  const bare = results.find((b) => b.scenario === `${r.scenario.split(':')[0]}:bare`);
  const ratio = bare ? (r.rps / bare.rps).toFixed(2) : '—';
  console.log(
    r.scenario.padEnd(28) +
      r.rps.toFixed(0).padStart(10) +
      r.p50Ms.toFixed(2).padStart(9) +
      r.p99Ms.toFixed(2).padStart(9) +
      `  ${ratio}`,
  );
}
