// Micro-benchmarks in one process, steadier than HTTP rounds on a shared machine: µs per
// `verify()` for a cache hit, a miss per algorithm (cache off, so every call checks a
// signature), refusals (no token, bad signature, rotating bad signatures), the same
// signature check done directly with node:crypto (the floor), and jose's compactVerify
// (the reference the fast path is tested against). The DPoP rows give a cached bound token
// a fresh proof per call (proofs are signed before timing: only the server's side counts),
// reported as a ratio to a cached bearer token. The "adapters" rows take the adapters' own
// path (answerRequest): no promise, and a refusal returned instead of thrown.
//   npm run bench:micro [-- --quick] [-- --filter <text>]
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify as cryptoVerify,
} from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { compactVerify, importJWK } from 'jose';
import { answerRequest, createVerifier } from '@zitauth/core';
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
  // Warm-up (JIT, caches, key imports) for a slice's time, so the first row measured
  // does not pay for the start-up the later ones find done.
  const warm = performance.now() + budgetMs / 5;
  for (let i = 0; i < 200 || performance.now() < warm; i += 1) await fn(i);
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

/** The RFC 7638 thumbprint of a public JWK (EC or OKP). */
function thumbprint(jwk) {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['crv', 'kty', 'x'];
  const canonical = Object.fromEntries(members.map((name) => [name, jwk[name]]));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/**
 * A client's DPoP key and `count` proofs for GET https://api.bench.test/me and `token`,
 * each with its own jti, signed up front so that timing sees only the server's work.
 */
function dpopProofs(type, count) {
  const pair =
    type === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const header = Buffer.from(JSON.stringify({ alg: type, typ: 'dpop+jwt', jwk })).toString(
    'base64url',
  );
  return {
    jkt: thumbprint(jwk),
    proofsFor(token) {
      const ath = createHash('sha256').update(token).digest('base64url');
      const iat = Math.floor(Date.now() / 1000);
      return Array.from({ length: count }, () => {
        const claims = {
          htm: 'GET',
          htu: 'https://api.bench.test/me',
          iat,
          jti: randomUUID(),
          ath,
        };
        const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        const signature =
          type === 'ES256'
            ? sign('sha256', Buffer.from(input), {
                key: pair.privateKey,
                dsaEncoding: 'ieee-p1363',
              })
            : sign(null, Buffer.from(input), pair.privateKey);
        return `${input}.${signature.toString('base64url')}`;
      });
    },
  };
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
// The adapters' path: answered without a promise, a refusal returned rather than thrown.
const answered = (request) => {
  const answer = answerRequest(cached, request, true);
  if (answer instanceof Promise) throw new Error('expected an answer from memory');
};
await row('adapters: cache hit (RS256)', () => answered({ authorization: `Bearer ${token}` }));
await row('adapters: no token → 401', () => answered({}));
await row('adapters: the same bad signature again', () =>
  answered({ authorization: `Bearer ${forged}` }),
);
const bad = await rotatingBadSignatures(idp, 1000);
await row('verify: 1,000 rotating bad signatures', (i) =>
  refused(cached.verify(bad[i % bad.length])),
);
await row('adapters: 1,000 rotating bad signatures', (i) =>
  answered({ authorization: `Bearer ${bad[i % bad.length]}` }),
);

// DPoP: the token is cached, each call brings a proof never seen before.
const bearerUs = rows.find((r) => r.name === 'authenticate: cache hit (RS256)')?.us;
const dpop = createVerifier({
  ...base,
  dpop: { mode: 'allowed', externalUrl: 'https://api.bench.test' },
});
for (const alg of ['ES256', 'EdDSA']) {
  const name = `authenticate: DPoP, cached token, fresh ${alg} proof`;
  if (filter !== undefined && !name.includes(filter)) continue;
  const client = dpopProofs(alg, quick ? 20_000 : 60_000);
  const bound = await idp.mintAccessToken({
    roles: ['reader'],
    claims: { cnf: { jkt: client.jkt } },
  });
  const proofs = client.proofsFor(bound);
  const request = (i) => {
    if (i >= proofs.length) throw new Error('bench: more calls than proofs; raise the count');
    return { authorization: `DPoP ${bound}`, dpop: proofs[i], method: 'GET', path: '/me' };
  };
  let next = 0;
  await row(name, () => dpop.authenticate(request(next++)));
  const dpopUs = rows.at(-1).us;
  if (bearerUs !== undefined) {
    console.log(`  → ${(dpopUs / bearerUs).toFixed(1)}× a cached bearer request`);
  }
}
dpop.close();

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
