// Micro-benchmarks in one process, steadier than HTTP rounds on a shared machine: µs per
// `verify()` for a cache hit, a miss per algorithm (cache off, so every call checks a
// signature), refusals (no token, bad signature, rotating bad signatures), the same
// signature check done directly with node:crypto (the floor), and jose's compactVerify
// (the reference the fast path is tested against).
//   npm run bench:micro [-- --quick] [-- --filter <text>]
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { compactVerify, importJWK } from 'jose';
import { createVerifier } from '@zitauth/core';
import { startTestIdp } from '@zitauth/testing';
import { publicJwks, rotatingBadSignatures } from './tokens.js';

const quick = process.argv.includes('--quick');
const filterAt = process.argv.indexOf('--filter');
const filter = filterAt > 0 ? process.argv[filterAt + 1] : undefined;
const budgetMs = quick ? 150 : 600;
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const HASHES = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', ES384: 'sha384' };

/** CPU time of this process (every thread, so jose's thread-pool work counts), in µs. */
function cpuUs() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Runs `fn` (sync or async) repeatedly for about `budgetMs` of wall time; median CPU µs
 * per call over 5 slices. CPU time rather than wall time: on a shared machine other work
 * takes turns on the core, which stretches wall time but not this process's CPU time.
 */
async function timeIt(fn) {
  for (let i = 0; i < 200; i += 1) await fn(i); // warm-up: JIT, caches, key imports
  const slices = [];
  for (let s = 0; s < 5; s += 1) {
    let n = 0;
    const cpuStart = cpuUs();
    const end = performance.now() + budgetMs / 5;
    while (performance.now() < end) {
      for (let k = 0; k < 50; k += 1) await fn(n++);
    }
    slices.push((cpuUs() - cpuStart) / n);
  }
  slices.sort((a, b) => a - b);
  return { us: slices[2], min: slices[0], max: slices[4] };
}

/** The node:crypto check of a compact JWS with a KeyObject: what no library can beat. */
function nodeCryptoCheck(jwk, alg) {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const hash = HASHES[alg] ?? null;
  const extra = alg.startsWith('PS')
    ? { padding: 6, saltLength: 32 }
    : alg.startsWith('ES')
      ? { dsaEncoding: 'ieee-p1363' }
      : {};
  return (token) => {
    const dot = token.lastIndexOf('.');
    const ok = cryptoVerify(
      hash,
      Buffer.from(token.slice(0, dot)),
      { key, ...extra },
      Buffer.from(token.slice(dot + 1), 'base64url'),
    );
    if (!ok) throw new Error('bad signature');
    return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url'));
  };
}

async function refused(promise) {
  try {
    await promise;
  } catch {
    return;
  }
  throw new Error('a refusal was accepted');
}

const rows = [];
async function row(name, fn) {
  if (filter !== undefined && !name.includes(filter)) return;
  const { us, min, max } = await timeIt(fn);
  rows.push({ name, us, min, max });
  const range = `(${min.toFixed(2)}–${max.toFixed(2)})`;
  console.log(`${name.padEnd(44)}${us.toFixed(2).padStart(9)} µs ${range.padStart(18)}`);
}

const idp = await startTestIdp();
// Every key is listed before any verifier fetches the key set.
const signed = {};
for (const alg of ALGORITHMS) signed[alg] = await idp.mintAccessToken({ alg, roles: ['reader'] });
const jwks = await publicJwks(idp.issuer);
const base = { issuer: idp.issuer, projectId: idp.defaultProject.id };
console.log(
  `Node ${process.version}, ${budgetMs} ms per row: CPU µs per call, median (min–max) of 5 slices\n`,
);

const cached = createVerifier(base);
const token = await idp.mintAccessToken({ roles: ['reader'] });
await cached.verify(token);
await row('verify: cache hit (RS256)', () => cached.verify(token));
await row('authenticate: cache hit (RS256)', () =>
  cached.authenticate({ authorization: `Bearer ${token}` }),
);
await row('authenticate: no token → 401', () => refused(cached.authenticate({})));
const forged = `${token.slice(0, -6)}AAAAAA`;
await row('verify: bad signature (cached refusal)', () => refused(cached.verify(forged)));
const bad = await rotatingBadSignatures(idp, 1000);
await row('verify: 1,000 rotating bad signatures', (i) =>
  refused(cached.verify(bad[i % bad.length])),
);

const uncached = createVerifier({ ...base, cache: { enabled: false } });
for (const alg of ALGORITHMS) {
  const token = signed[alg];
  const jwk = jwks.get(JSON.parse(Buffer.from(token.split('.')[0], 'base64url')).kid);
  await row(`verify: cache off, ${alg}`, () => uncached.verify(token));
  const floor = nodeCryptoCheck(jwk, alg);
  await row(`node:crypto verify, ${alg} (floor)`, () => floor(token));
  const joseKey = await importJWK(jwk, alg);
  await row(`jose compactVerify, ${alg} (reference)`, () =>
    compactVerify(token, joseKey, { algorithms: [alg] }),
  );
}

cached.close();
uncached.close();
await idp.close();
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
