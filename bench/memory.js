// Memory under a stream of distinct valid tokens (P6): one verifier at default bounds
// verifies N distinct Ed25519-signed tokens (default 10^6), and RSS is read after a full
// GC before the first token, once the cache is full, and at the end. Tokens are signed
// here with node:crypto and the key set is served by an injected fetch, so the process
// measures the verifier and nothing else.
//   npm run bench:memory [-- --tokens 1000000]
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createVerifier } from '@zitauth/core';

const at = process.argv.indexOf('--tokens');
const total = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
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

function rssMb() {
  globalThis.gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

const verifier = createVerifier({
  issuer,
  projectId,
  endpoints: { jwksUri: `${issuer}/oauth/v2/keys` },
  fetch: async () =>
    new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } }),
});
if (globalThis.gc === undefined) console.log('(run with node --expose-gc for steadier figures)');
await verifier.verify(mint(0));
const before = rssMb();
let cacheFull = 0;
const started = Date.now();
for (let i = 1; i <= total; i += 1) {
  await verifier.verify(mint(i));
  if (i === 20_000) cacheFull = rssMb();
  if (i % 100_000 === 0)
    process.stderr.write(`  ${i.toLocaleString('en-US')} tokens, RSS ${rssMb().toFixed(1)} MB\n`);
}
const after = rssMb();
verifier.close();
console.log(
  `${total.toLocaleString('en-US')} distinct valid tokens in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
    `default bounds (10,000 cache entries): RSS ${before.toFixed(1)} MB before, ` +
    `${cacheFull.toFixed(1)} MB with the cache full, ${after.toFixed(1)} MB after; ` +
    `growth ${(after - before).toFixed(1)} MB (P6 goal: ≤ 50 MB)`,
);
