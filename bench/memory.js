// Memory under a stream of distinct valid tokens (P6): one verifier at default bounds
// verifies N distinct Ed25519-signed tokens (default 10^6), and RSS is read after a full
// GC before the first token, once the cache is full, and at the end. Tokens are signed
// here with node:crypto and the key set is served by an injected fetch, so the process
// measures the verifier and nothing else. The token factory itself grows RSS by some
// 10-15 MB before it settles (signing, Buffers, V8 code), so it first mints and drops
// 100,000 tokens; the RSS it takes is printed apart, and `--cold` skips that warm-up.
// Also printed: heap per cache entry, read once the cache is full.
//   npm run bench:memory [-- --tokens 1000000] [-- --max-entries 10000] [-- --cold]
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createVerifier } from '@zitauth/core';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const total = option('--tokens', 1_000_000);
const maxEntries = option('--max-entries', undefined);
const cold = process.argv.includes('--cold');
const issuer = 'http://127.0.0.1:9';
const projectId = 'bench-project';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwks = {
  keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA', use: 'sig' }],
};
const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' })).toString(
  'base64url',
);

function mint(i) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    sub: `user-${i}`,
    aud: [projectId],
    exp: now + 3600,
    iat: now,
    client_id: 'bench@client',
    jti: randomUUID(),
    'urn:zitadel:iam:org:project:roles': { reader: { org1: 'acme.localhost' } },
  };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
}

const MB = 2 ** 20;
function memory() {
  globalThis.gc?.();
  return process.memoryUsage();
}
function rssMb() {
  return memory().rss / MB;
}

const verifier = createVerifier({
  issuer,
  projectId,
  endpoints: { jwksUri: `${issuer}/oauth/v2/keys` },
  ...(maxEntries === undefined ? {} : { cache: { maxEntries } }),
  fetch: async () =>
    new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } }),
});
if (globalThis.gc === undefined) console.log('(run with node --expose-gc for steadier figures)');
const start = rssMb();
if (!cold) for (let i = 0; i < 100_000; i += 1) mint(-1);
const warm = rssMb();
await verifier.verify(mint(0));
const before = memory();
const entries = maxEntries ?? 10_000;
let cacheFull = before;
const started = Date.now();
for (let i = 1; i <= total; i += 1) {
  await verifier.verify(mint(i));
  if (i === entries) cacheFull = memory();
  if (i % 100_000 === 0) {
    const now = memory();
    process.stderr.write(
      `  ${i.toLocaleString('en-US')} tokens, RSS ${(now.rss / MB).toFixed(1)} MB, ` +
        `V8 heap ${(now.heapTotal / MB).toFixed(1)} MB (${(now.heapUsed / MB).toFixed(1)} MB used)\n`,
    );
  }
}
const after = rssMb();
verifier.close();
const perEntry = (cacheFull.heapUsed - before.heapUsed) / Math.min(entries, total);
console.log(
  `${total.toLocaleString('en-US')} distinct valid tokens in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
    `cache of ${entries.toLocaleString('en-US')} entries` +
    `${maxEntries === undefined ? ' (default)' : ''}, ${perEntry.toFixed(0)} B of heap each; ` +
    (cold ? '' : `token factory warm-up ${(warm - start).toFixed(1)} MB; `) +
    `RSS ${(before.rss / MB).toFixed(1)} MB before, ${(cacheFull.rss / MB).toFixed(1)} MB with the cache full, ` +
    `${after.toFixed(1)} MB after; growth ${(after - before.rss / MB).toFixed(1)} MB (P6 goal: ≤ 50 MB)`,
);
