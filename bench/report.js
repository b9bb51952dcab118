// What the HTTP benchmark measures (its cells) and how it reports them: a table per
// framework as it finishes, one markdown table of paired ratios for the README, and the
// goals (P1–P7) each checked against the ratios of the same run.

/**
 * server: which server kind answers; tokens: which token set wrk sends (undefined: no
 * Authorization header); expect: the status every answer must have.
 */
export const CELLS = [
  {
    id: 'hook',
    server: 'hook',
    tokens: 'same',
    expect: 200,
    label: 'no-op hook (sets a constant caller)',
  },
  { id: 'a', server: 'zitauth', tokens: 'same', expect: 200, label: 'zitauth (a) same token' },
  {
    id: 'b',
    server: 'zitauth',
    tokens: 'rotating',
    expect: 200,
    label: 'zitauth (b) 1,000 rotating',
  },
  {
    id: 'c',
    server: 'zitauth',
    tokens: undefined,
    expect: 401,
    label: 'zitauth (c) no token → 401',
  },
  {
    id: 'refuse',
    server: 'refuse',
    tokens: undefined,
    expect: 401,
    label: "(c) the framework's own refusal",
  },
  { id: 'd', server: 'zitauth', tokens: 'forged', expect: 401, label: 'zitauth (d) bad signature' },
  {
    id: 'e',
    server: 'zitauth',
    tokens: 'forgedRotating',
    expect: 401,
    label: 'zitauth (e) 1,000 bad signatures',
  },
  {
    id: 'off',
    server: 'zitauth-nocache',
    tokens: 'same',
    expect: 200,
    label: 'zitauth cache off, RS256',
  },
  {
    id: 'off-es256',
    server: 'zitauth-nocache',
    tokens: 'es256',
    expect: 200,
    label: 'zitauth cache off, ES256',
  },
  {
    id: 'off-eddsa',
    server: 'zitauth-nocache',
    tokens: 'eddsa',
    expect: 200,
    label: 'zitauth cache off, EdDSA',
  },
  {
    id: 'opaque',
    server: 'zitauth-introspect',
    tokens: 'opaque',
    expect: 200,
    label: 'zitauth opaque, warm cache',
  },
  { id: 'peer', server: 'peer', tokens: 'same', expect: 200, label: 'peer library (a)' },
  { id: 'floor', server: 'floor', tokens: 'same', expect: 200, label: 'node:crypto floor, RS256' },
  {
    id: 'floor-es256',
    server: 'floor',
    tokens: 'es256',
    expect: 200,
    label: 'node:crypto floor, ES256',
  },
  {
    id: 'floor-eddsa',
    server: 'floor',
    tokens: 'eddsa',
    expect: 200,
    label: 'node:crypto floor, EdDSA',
  },
  {
    id: 'floor-e',
    server: 'floor',
    tokens: 'forgedRotating',
    expect: 401,
    label: 'node:crypto floor (e)',
  },
];

export const QUICK_CELLS = ['hook', 'a', 'c', 'refuse', 'e', 'off', 'peer', 'floor'];

export const PEERS = {
  express: 'express-oauth2-jwt-bearer',
  fastify: '@fastify/jwt',
  koa: 'koa-jwt',
};

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min and max of one measure of one cell over the rounds. */
function stats(result, id, measure) {
  const values = result.perRound.map((round) => round[id][measure]);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

const ratio = (s) => `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
const count = (n) => Math.round(n).toLocaleString('en-US');

export function printFramework(result, cells) {
  console.log(`\n${result.framework} (peer: ${PEERS[result.framework]})`);
  console.log(
    'cell'.padEnd(34) +
      'req/s (min–max)'.padStart(24) +
      '× bare req/s'.padStart(20) +
      'CPU µs/req'.padStart(12) +
      '× bare CPU'.padStart(20) +
      'p99 ms'.padStart(9),
  );
  for (const cell of [{ id: 'bare', label: 'bare framework' }, ...cells]) {
    const rps = stats(result, cell.id, 'rps');
    const range = `${count(rps.median)} (${count(rps.min)}–${count(rps.max)})`;
    const paired = cell.id === 'bare' ? '1.00×' : ratio(stats(result, cell.id, 'ratio'));
    const cpu = stats(result, cell.id, 'cpuUs').median.toFixed(0);
    const cpuPaired = cell.id === 'bare' ? '1.00×' : ratio(stats(result, cell.id, 'cpuRatio'));
    const p99 = stats(result, cell.id, 'p99Ms').median.toFixed(2);
    console.log(
      cell.label.padEnd(34) +
        range.padStart(24) +
        paired.padStart(20) +
        cpu.padStart(12) +
        cpuPaired.padStart(20) +
        p99.padStart(9),
    );
  }
  if (cells.some((cell) => cell.id === 'opaque')) {
    console.log(
      `IdP introspection calls per server process: ${result.introspectCalls} (1,000 distinct ` +
        `opaque tokens), of which during measured slices: ${result.measuredCalls}`,
    );
  }
  if (result.latency === undefined) return;
  const { rate, idle, bare, zitauth } = result.latency;
  const cpu = (runs) => median(runs.map((run) => run.cpuUs));
  const spread = (runs, field) => {
    const values = runs.map((run) => run[field]);
    const [low, high] = [Math.min(...values), Math.max(...values)];
    return `${median(values).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`;
  };
  const p99s = (field) =>
    `server that does nothing ${spread(idle, field)}, bare ${spread(bare, field)}, ` +
    `zitauth (a) ${spread(zitauth, field)}`;
  console.log(
    `open loop at ${count(rate)} req/s (half of bare), ${bare.length} runs each, p99 ms ` +
      `(median, min–max): from due: ${p99s('p99Ms')}; from the write: ${p99s('writtenP99Ms')}; ` +
      `p50 from due: bare ${spread(bare, 'p50Ms')}, zitauth (a) ${spread(zitauth, 'p50Ms')}`,
  );
  console.log(
    `  CPU µs/req at that rate: bare ${cpu(bare).toFixed(1)}, zitauth (a) ` +
      `${cpu(zitauth).toFixed(1)} (${equalLoadRatio(result).toFixed(2)}×)`,
  );
  // A latency is only read from answered 200s: say so when a run lost or refused any.
  for (const [name, runs] of Object.entries({ idle, bare, zitauth })) {
    for (const run of runs) {
      const other = Object.entries(run.statuses).filter(([status]) => status !== '200');
      if (run.answered < run.sent || other.length > 0) {
        console.log(
          `  WARNING open loop, ${name}: ${run.answered} of ${run.sent} answered, ` +
            `statuses ${JSON.stringify(run.statuses)}`,
        );
      }
    }
  }
}

/** (a)'s CPU cost ratio to bare at one offered rate (half of bare's saturation). */
function equalLoadRatio(result) {
  const cpu = (runs) => median(runs.map((run) => run.cpuUs));
  return cpu(result.latency.bare) / cpu(result.latency.zitauth);
}

/** The README table: paired ratios to bare (throughput, then CPU cost), per framework. */
export function markdownTable(results, cells) {
  const head = `| cell | ${results.map((r) => `${r.framework}: req/s | CPU`).join(' | ')} |`;
  const rule = `| --- | ${results.map(() => '--- | ---').join(' | ')} |`;
  const bare = `| bare framework | ${results
    .map(
      (r) =>
        `${count(stats(r, 'bare', 'rps').median)}/s | ${stats(r, 'bare', 'cpuUs').median.toFixed(0)} µs`,
    )
    .join(' | ')} |`;
  const rows = cells.map((cell) => {
    const label =
      cell.id === 'peer'
        ? `peer (a): ${results.map((r) => PEERS[r.framework]).join(', ')}`
        : cell.label;
    const values = results.map(
      (r) => `${ratio(stats(r, cell.id, 'ratio'))} | ${ratio(stats(r, cell.id, 'cpuRatio'))}`,
    );
    return `| ${label} | ${values.join(' | ')} |`;
  });
  if (results.some((r) => r.latency === undefined)) return [head, rule, bare, ...rows].join('\n');
  const equal = `| zitauth (a) at equal load: CPU, open loop at half bare's rate | ${results
    .map((r) => `| ${equalLoadRatio(r).toFixed(2)}×`)
    .join(' | ')} |`;
  return [head, rule, bare, ...rows, equal].join('\n');
}

/**
 * With `--baseline`: each zitauth cell's CPU-cost ratio to bare, for the baseline checkout
 * and for this one, measured in the same rounds.
 */
export function beforeAfterTable(results, cells) {
  const pairs = cells
    .filter((cell) => cell.id.endsWith('@baseline'))
    .map((base) => [base, cells.find((cell) => `${cell.id}@baseline` === base.id)]);
  const head = `| cell (CPU cost × bare) | ${results.map((r) => `${r.framework}: before → after`).join(' | ')} |`;
  const rule = `| --- | ${results.map(() => '---').join(' | ')} |`;
  const rows = pairs.map(([base, now]) => {
    const values = results.map((r) => {
      const before = stats(r, base.id, 'cpuRatio').median;
      const after = stats(r, now.id, 'cpuRatio').median;
      return `${before.toFixed(2)}× → ${after.toFixed(2)}×`;
    });
    return `| ${now.label} | ${values.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

/**
 * Each goal of the issue as a ratio of this run's paired medians. The verdict reads the
 * CPU-cost ratio (what the throughput ratio is on a core of its own); the throughput
 * ratio follows in brackets.
 */
export function goals(results) {
  const lines = [
    '',
    'Goals (medians of paired ratios from this run; verdict on CPU cost, [req/s]):',
  ];
  const has = (result, id) => result.perRound[0][id] !== undefined;
  for (const result of results) {
    const r = (id, field) => stats(result, id, field).median;
    const checks = [];
    const add = (name, of, target) => {
      const cpu = of('cpuRatio');
      const rps = of('ratio');
      checks.push(
        `${name} ${cpu.toFixed(2)} [${rps.toFixed(2)}] ${cpu >= target ? 'met' : 'NOT met'}`,
      );
    };
    if (has(result, 'a')) add('P1 (a)≥0.90', (f) => r('a', f), 0.9);
    if (result.latency !== undefined) {
      const equal = equalLoadRatio(result);
      checks.push(`P1 at equal load ${equal.toFixed(2)} ${equal >= 0.9 ? 'met' : 'NOT met'}`);
    }
    if (has(result, 'b')) add('P2 (b)≥0.85', (f) => r('b', f), 0.85);
    if (has(result, 'off') && has(result, 'floor')) {
      add('P3 off/floor RS256≥0.90', (f) => r('off', f) / r('floor', f), 0.9);
    }
    if (has(result, 'off-es256')) add('ES256', (f) => r('off-es256', f) / r('floor-es256', f), 0.9);
    if (has(result, 'off-eddsa')) add('EdDSA', (f) => r('off-eddsa', f) / r('floor-eddsa', f), 0.9);
    if (has(result, 'opaque')) add('P4 opaque≥0.90', (f) => r('opaque', f), 0.9);
    if (has(result, 'c') && has(result, 'a')) add('P5 (c)/(a)≥1', (f) => r('c', f) / r('a', f), 1);
    if (has(result, 'c') && has(result, 'refuse')) {
      // Not a goal: how close (c) is to refusing with no library at all.
      const share = r('c', 'cpuRatio') / r('refuse', 'cpuRatio');
      checks.push(`(c) against the framework's own refusal ${share.toFixed(2)}`);
    }
    if (has(result, 'd') && has(result, 'a')) add('(d)/(a)≥1', (f) => r('d', f) / r('a', f), 1);
    if (has(result, 'e') && has(result, 'floor')) {
      add('(e)/floor≥0.90', (f) => r('e', f) / r('floor', f), 0.9);
    }
    if (result.latency !== undefined) {
      const { idle, bare, zitauth } = result.latency;
      const p99 = (runs) => median(runs.map((run) => run.p99Ms));
      const added = p99(zitauth) - p99(bare);
      // The verdict is printed with the generator's own p99 beside it: a server that does
      // nothing reads milliseconds on a busy VM, and a difference below that is noise.
      checks.push(
        `P7 added p99 ${added.toFixed(2)} ms ${added <= 1 ? 'met' : 'NOT met'} ` +
          `(a server that does nothing: p99 ${p99(idle).toFixed(2)} ms)`,
      );
    }
    lines.push(`${result.framework}: ${checks.join('; ')}`);
  }
  return lines.join('\n');
}
