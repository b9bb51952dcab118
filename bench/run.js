// The HTTP benchmark: the same GET /hello behind no auth (bare), zitauth (cache on,
// cache off, introspection), the framework's usual JWT library (peer) and a hand-written
// node:crypto check (floor), for Express, Fastify and Koa. The servers run on one CPU
// (taskset), wrk and this script on the other, so they never share a core. The machine
// may be busy with other work, so every figure is paired: within each round every cell
// runs between two slices of the bare framework, and its ratio is taken against those
// two, seconds apart. Medians over rounds are printed with min–max.
//   npm run bench                 full run (about 30 minutes, 40 with --baseline)
//   npm run bench -- --quick      a short look (fewer cells, rounds and seconds)
//   options: --frameworks express,koa  --cells a,c,refuse  --rounds N  --slice SECONDS
//   --connections N  --lead-in SECONDS (0: none)
//   --baseline DIR   also run the zitauth cells against another checkout (built, with its
//                    own node_modules), in the same rounds: before and after from one run
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '@zitauth/testing';
import { distinctTokens, flipSignature } from './tokens.js';
import {
  CELLS,
  QUICK_CELLS,
  beforeAfterTable,
  goals,
  markdownTable,
  median,
  printFramework,
} from './report.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const quick = args.includes('--quick');
const frameworks = option('frameworks', 'express,fastify,koa').split(',');
const onlyCells = option('cells', undefined)?.split(',');
const rounds = Number(option('rounds', quick ? 2 : 5));
const sliceS = Number(option('slice', quick ? 1 : 2));
const connections = Number(option('connections', 32));
/**
 * Every measured slice follows an unmeasured one of the same requests on the same server.
 * A server that sat idle while the others were measured pays for waking up in its next
 * seconds of load: on the 2-core VMs this bench runs on, its processes fault pages back in
 * (1–2 minor faults per Express request, twice bare's rate in a server measured once a
 * round) and regrow their heaps. Without a lead-in, bare (measured every other slice) was
 * the only warm server, and a cell's ratio depended on how long its server had been idle:
 * the opaque cell, the framework's own refusal and the floor lost a third of their
 * throughput in the full run and none when run on their own.
 */
const leadInS = Number(option('lead-in', 1));
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';
const LOAD_CPU = process.env.BENCH_LOAD_CPU ?? '1';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const baselineDir = option('baseline', undefined);
/** The zitauth cells measured against the baseline too. */
const BASELINE_CELLS = ['a', 'b', 'c', 'd', 'e', 'off'];
const BASELINE = '@baseline';

/**
 * This server script, copied into the baseline checkout: the same cells and bodies, with
 * `@zitauth/*` resolved from that checkout's packages.
 */
function baselineServer() {
  const file = join(baselineDir, 'bench', 'server-under-test.js');
  writeFileSync(file, readFileSync(here('./server.js')));
  return file;
}

/** The baseline's copies of the zitauth cells: the same requests to the other checkout. */
function withBaseline(cells) {
  if (baselineDir === undefined) return cells;
  const copies = cells
    .filter((cell) => BASELINE_CELLS.includes(cell.id))
    .map((cell) => ({
      ...cell,
      id: `${cell.id}${BASELINE}`,
      server: `${cell.server}${BASELINE}`,
      label: `${cell.label}, baseline`,
    }));
  return [...cells, ...copies];
}

function requireTools() {
  for (const [tool, versionArg] of [
    ['wrk', '-v'],
    ['taskset', '-V'],
  ]) {
    const result = spawnSync(tool, [versionArg]);
    if (result.error) {
      throw new Error(`the bench needs ${tool} on PATH (Debian: apt-get install wrk util-linux)`);
    }
  }
  // This script (and the IdP it hosts) stays off the servers' core.
  spawnSync('taskset', ['-a', '-cp', LOAD_CPU, String(process.pid)]);
}

/** Every token set the cells use, as files wrk's rotate.lua reads. */
async function prepareTokens(idp, dir) {
  await idp.keys.add('ES256');
  await idp.keys.add('EdDSA');
  const same = await idp.mintAccessToken({ roles: ['reader'] });
  const rotating = await distinctTokens(idp, 1000);
  const sets = {
    same: [same],
    rotating,
    forged: [flipSignature(same)],
    forgedRotating: (await distinctTokens(idp, 1000)).map((token) => flipSignature(token)),
    es256: [await idp.mintAccessToken({ alg: 'ES256', roles: ['reader'] })],
    eddsa: [await idp.mintAccessToken({ alg: 'EdDSA', roles: ['reader'] })],
    opaque: await distinctTokens(idp, 1000, { format: 'opaque' }),
  };
  const files = {};
  for (const [name, tokens] of Object.entries(sets)) {
    files[name] = join(dir, `${name}.txt`);
    writeFileSync(files[name], `${tokens.join('\n')}\n`);
  }
  return { sets, files };
}

let baselineScript;

async function startServer(framework, kind, env) {
  const baseline = kind.endsWith(BASELINE);
  if (baseline) baselineScript ??= baselineServer();
  const script =
    kind === IDLE ? here('./idle-server.js') : baseline ? baselineScript : here('./server.js');
  const child = spawn(
    'taskset',
    ['-c', SERVER_CPU, process.execPath, script, framework, kind.replace(BASELINE, '')],
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
  throw new Error(`${framework} ${kind} did not start`);
}

const UNITS = { us: 0.001, ms: 1, s: 1000 };
function parseWrk(text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors =
    socket && Number(socket[1]) + Number(socket[2]) + Number(socket[3]) > 0 ? socket[0] : undefined;
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
  if (!Number.isFinite(rps)) throw new Error(`unreadable wrk output:\n${text}`);
  return { rps, requests, non2xx, errors, p99Ms: p99 ? Number(p99[1]) * UNITS[p99[2]] : NaN };
}

const TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds a process has used (all threads, user + system), from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/**
 * One slice of closed-loop load on a cell; checks every answer had the expected status.
 * Besides req/s it reads the server's CPU time, so each request's CPU cost is known even
 * when other work on the machine takes turns on the server's core.
 */
async function slice(server, cell, files, seconds = sliceS) {
  const { port, child } = server;
  const wrkArgs = ['-c', LOAD_CPU, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  // A busy machine can stall an answer past wrk's default 2 s; a late answer is not a wrong one.
  wrkArgs.push('--timeout', '10s');
  const env = { ...process.env };
  if (cell.tokens !== undefined && files[cell.tokens] !== undefined) {
    wrkArgs.push('-s', here('./rotate.lua'));
    env.BENCH_TOKENS = files[cell.tokens];
  }
  wrkArgs.push(`http://127.0.0.1:${port}/hello`);
  const cpuBefore = cpuSeconds(child.pid);
  // Asynchronous, so the IdP this process hosts keeps answering (introspection) meanwhile.
  const result = await promisify(execFile)('taskset', wrkArgs, { env, encoding: 'utf8' });
  const measured = parseWrk(result.stdout);
  measured.cpuUs = ((cpuSeconds(child.pid) - cpuBefore) * 1e6) / measured.requests;
  const wrong = cell.expect === 200 ? measured.non2xx : measured.requests - measured.non2xx;
  if (wrong > 0 || measured.errors !== undefined) {
    throw new Error(
      `${cell.label}: ${wrong} answers were not ${cell.expect} (${measured.errors ?? 'no socket errors'})`,
    );
  }
  return measured;
}

/** Sends each token once, a few at a time, expecting 200. */
async function sendEach(port, list) {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const token = list[next++];
      const response = await fetch(`http://127.0.0.1:${port}/hello`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`warm-up answered ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** One request per cell before measuring: the expected status and challenge. */
async function checkCell(port, cell, sets) {
  const token = cell.tokens === undefined ? undefined : sets[cell.tokens][0];
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`http://127.0.0.1:${port}/hello`, { headers });
  await response.arrayBuffer();
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (response.status !== cell.expect || (cell.expect === 401 && !challenge.startsWith('Bearer'))) {
    throw new Error(
      `${cell.label}: answered ${response.status} ${challenge}, expected ${cell.expect}`,
    );
  }
}

/**
 * The bare framework's slice next to a cell gets the same requests as the cell: the same
 * Authorization header (which bare ignores), or none for the no-token cell. So a ratio
 * measures the authentication, not the parsing of a kilobyte of header that any request
 * with a token costs whatever checks it.
 */
const bareFor = (cell) => ({ bare: true, tokens: cell.tokens === undefined ? undefined : 'same' });

/**
 * bare, two cells, bare, two cells, …, bare: each cell sits between two bare slices. Cells
 * sending a token come first, then the cells sending none, each group between bare slices
 * of its own kind of request.
 */
function roundPlan(cells) {
  const plan = [];
  const groups = [
    cells.filter((cell) => cell.tokens !== undefined),
    cells.filter((cell) => cell.tokens === undefined),
  ];
  for (const group of groups) {
    if (group.length === 0) continue;
    group.forEach((cell, i) => {
      if (i % 2 === 0) plan.push(bareFor(cell));
      plan.push(cell);
    });
    plan.push(bareFor(group[0]));
  }
  return plan;
}

async function runRound(servers, cells, files) {
  const plan = roundPlan(cells);
  const measured = [];
  for (const step of plan) {
    const [server, cell] = step.bare
      ? [servers.bare, { label: 'bare', expect: 200, tokens: step.tokens }]
      : [servers[step.server], step];
    if (leadInS > 0) await slice(server, cell, files, leadInS);
    measured.push(await slice(server, cell, files));
  }
  const mean = (a, b, field) => (measured[a][field] + measured[b][field]) / 2;
  const results = {};
  plan.forEach((step, i) => {
    if (step.bare) return;
    const before = plan.findLastIndex((s, j) => j < i && s.bare);
    const after = plan.findIndex((s, j) => j > i && s.bare);
    results[step.id] = {
      ...measured[i],
      // Throughput against the bare slices on either side, seconds apart.
      ratio: measured[i].rps / mean(before, after, 'rps'),
      // The same as a cost: bare's CPU per request over this cell's.
      cpuRatio: mean(before, after, 'cpuUs') / measured[i].cpuUs,
    };
  });
  // The bare row: its slices that carried a token (what most cells send), or all of them
  // when only no-token cells run.
  const carried = measured.filter((_, i) => plan[i].bare && plan[i].tokens !== undefined);
  const bares = carried.length > 0 ? carried : measured.filter((_, i) => plan[i].bare);
  const average = (field) => bares.reduce((sum, m) => sum + m[field], 0) / bares.length;
  results.bare = {
    ...bares[0],
    rps: average('rps'),
    cpuUs: average('cpuUs'),
    ratio: 1,
    cpuRatio: 1,
  };
  return results;
}

/** The P7 runs' reference server: answers at once, with no framework (idle-server.js). */
const IDLE = 'idle';

/**
 * P7: p99 at half the bare framework's saturation rate, open loop, bare vs zitauth (a),
 * with a server that does nothing in the same alternation: its p99 is the generator's
 * and the machine's own, which an added p99 must stand out from to mean anything.
 * The same runs give each server's CPU per answered request at one and the same offered
 * rate. Under saturation a slower server also pays, in its own send calls, for waking a
 * load generator that sat idle waiting for it (on loopback the receiver's work runs in
 * the sender's system call); at equal load both servers pay that alike, so this ratio
 * isolates the authentication.
 */
async function latencyAtHalfLoad(servers, bareRps, token) {
  const rate = Math.round(bareRps / 2);
  const run = ({ port, child }, authorization) => {
    const cpuBefore = cpuSeconds(child.pid);
    const result = spawnSync(
      'taskset',
      [
        '-c',
        LOAD_CPU,
        process.execPath,
        here('./open-loop.js'),
        String(port),
        '/hello',
        String(rate),
        String(quick ? 2000 : 3000),
        authorization,
      ],
      { encoding: 'utf8' },
    );
    const measured = JSON.parse(result.stdout);
    measured.cpuUs = ((cpuSeconds(child.pid) - cpuBefore) * 1e6) / measured.answered;
    return measured;
  };
  const idleServer = await startServer('none', IDLE, {});
  const idle = [];
  const bare = [];
  const zitauth = [];
  try {
    for (let i = 0; i < (quick ? 1 : 5); i += 1) {
      idle.push(run(idleServer, `Bearer ${token}`));
      bare.push(run(servers.bare, `Bearer ${token}`));
      zitauth.push(run(servers.zitauth, `Bearer ${token}`));
    }
  } finally {
    idleServer.child.kill();
    await once(idleServer.child, 'exit');
  }
  return { rate, idle, bare, zitauth };
}

function subjectOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;
}

async function startServers(framework, kinds, env) {
  const servers = {};
  for (const kind of kinds) servers[kind] = await startServer(framework, kind, env);
  return servers;
}

async function stopServers(servers) {
  for (const { child } of Object.values(servers)) {
    child.kill();
    await once(child, 'exit');
  }
}

/**
 * Every round starts fresh server processes and warms them up: a process that JIT or GC
 * left in a slow state then spoils one round, which the median over rounds sets aside,
 * instead of every round of its cells.
 */
async function benchFramework(framework, idp, tokens, cells) {
  const env = {
    BENCH_ISSUER: idp.issuer,
    BENCH_PROJECT_ID: idp.defaultProject.id,
    BENCH_CLIENT_ID: tokens.api.clientId,
    BENCH_CLIENT_SECRET: tokens.api.clientSecret,
    // bare answers the same body as the cells: with the subject of the token it is sent.
    BENCH_SUBJECT: subjectOf(tokens.sets.same[0]),
  };
  const kinds = ['bare', ...new Set(cells.map((cell) => cell.server))];
  const perRound = [];
  let introspectCalls = 0;
  let measuredCalls = 0;
  let latency;
  for (let r = 0; r < rounds; r += 1) {
    const servers = await startServers(framework, kinds, env);
    try {
      if (r === 0) {
        for (const cell of cells) await checkCell(servers[cell.server].port, cell, tokens.sets);
      }
      const introspectBefore = idp.calls('introspect');
      // Warm-up: every token of the cells that accept several (rotating, opaque) sent once,
      // so their caches are warm before any slice (a slice alone may not reach every
      // opaque token's introspection); then JIT and key imports.
      for (const cell of cells) {
        if (cell.expect === 200 && cell.tokens !== undefined) {
          await sendEach(servers[cell.server].port, tokens.sets[cell.tokens]);
        }
      }
      await slice(servers.bare, { label: 'bare', expect: 200, tokens: 'same' }, tokens.files, 1);
      for (const cell of cells) await slice(servers[cell.server], cell, tokens.files, 1);
      const measuredBefore = idp.calls('introspect');
      perRound.push(await runRound(servers, cells, tokens.files));
      introspectCalls += idp.calls('introspect') - introspectBefore;
      measuredCalls += idp.calls('introspect') - measuredBefore;
      process.stderr.write(`  ${framework}: round ${r + 1}/${rounds}\n`);
      // P7's open-loop runs need the (a) cell's server.
      if (r === rounds - 1 && cells.some((cell) => cell.id === 'a')) {
        const bareRps = median(perRound.map((round) => round.bare.rps));
        latency = await latencyAtHalfLoad(servers, bareRps, tokens.sets.same[0]);
      }
    } finally {
      await stopServers(servers);
    }
  }
  // Per server process: each round's process saw the 1,000 opaque tokens anew.
  return {
    framework,
    perRound,
    introspectCalls: introspectCalls / rounds,
    measuredCalls: measuredCalls / rounds,
    latency,
  };
}

/** The baseline checkout's commit, for the header. */
function baselineCommit() {
  const result = spawnSync('git', ['-C', baselineDir, 'log', '-1', '--format=%h %s'], {
    encoding: 'utf8',
  });
  return result.stdout.trim().slice(0, 60) || baselineDir;
}

requireTools();
const dir = mkdtempSync(join(tmpdir(), 'zitauth-bench-'));
const idp = await startTestIdp();
try {
  const api = idp.createApiApp({ auth: 'basic' });
  const tokens = { ...(await prepareTokens(idp, dir)), api };
  const chosen = onlyCells ?? (quick ? QUICK_CELLS : undefined);
  const unknown = onlyCells?.filter((id) => !CELLS.some((cell) => cell.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown cells: ${unknown.join(', ')}`);
  const cells = withBaseline(
    chosen === undefined ? CELLS : CELLS.filter((cell) => chosen.includes(cell.id)),
  );
  const header =
    `${rounds} rounds × ${sliceS} s slices (each after a ${leadInS} s lead-in), ` +
    `${connections} connections, wrk on CPU ${LOAD_CPU}, ` +
    `servers on CPU ${SERVER_CPU}, Node ${process.version}` +
    (baselineDir === undefined ? '' : `; baseline: ${baselineCommit()}`);
  console.log(header);
  const results = [];
  for (const framework of frameworks) {
    const result = await benchFramework(framework, idp, tokens, cells);
    results.push(result);
    printFramework(result, cells);
  }
  console.log(`\n${header}\n`);
  console.log(markdownTable(results, cells));
  console.log(goals(results));
  if (baselineDir !== undefined) console.log(`\n${beforeAfterTable(results, cells)}`);
} finally {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
  if (baselineScript !== undefined) rmSync(baselineScript, { force: true });
}
