// CPU of a first-seen opaque token (P8): one introspection call per verify(), measured
// as this process's CPU time per call, next to a plain keep-alive http.request of the
// same POST (the floor) and to the same verifier calling through fetch. The IdP runs in
// another process, so its work is not counted. Also reports timers left behind.
//   npm run bench:introspection [-- --calls 500]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { createVerifier } from '@zitauth/core';

const at = process.argv.indexOf('--calls');
const calls = at > 0 ? Number(process.argv[at + 1]) : 500;
const child = fork(fileURLToPath(new URL('./idp-child.js', import.meta.url)));
const [idp] = await once(child, 'message');
async function mint(n) {
  child.send({ mint: n, format: 'opaque' });
  return (await once(child, 'message'))[0].tokens;
}

const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Median CPU µs per call over 3 batches of `calls` fresh tokens. */
async function measure(name, call) {
  await Promise.all((await mint(20)).map(call)); // warm-up: connections, JIT
  const batches = [];
  for (let b = 0; b < 3; b += 1) {
    const tokens = await mint(calls);
    const start = cpuUs();
    for (const token of tokens) await call(token);
    batches.push((cpuUs() - start) / calls);
  }
  batches.sort((x, y) => x - y);
  console.log(
    `${name.padEnd(48)}${batches[1].toFixed(0).padStart(6)} µs CPU per call (${batches[0].toFixed(0)}–${batches[2].toFixed(0)})`,
  );
  return batches[1];
}

const base = {
  issuer: idp.issuer,
  projectId: idp.projectId,
  mode: 'introspect',
  introspection: { clientId: idp.clientId, clientSecret: idp.clientSecret },
  cache: { enabled: false },
};
const endpoint = new URL(`${idp.issuer}/oauth/v2/introspect`);
const basic = `Basic ${Buffer.from(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true });
function plain(token) {
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint, {
      method: 'POST',
      agent,
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    });
    req.on('error', reject);
    req.end(new URLSearchParams({ token, token_type_hint: 'access_token' }).toString());
  });
}

console.log(
  `Node ${process.version}, ${calls} distinct opaque tokens per batch, median of 3 batches\n`,
);
const floor = await measure('plain keep-alive http.request (floor)', plain);
const zitauth = createVerifier(base);
const ours = await measure('verify(): introspection, keep-alive transport', (t) =>
  zitauth.verify(t),
);
const viaFetch = createVerifier({ ...base, fetch: globalThis.fetch });
const fetched = await measure('verify(): introspection through fetch', (t) => viaFetch.verify(t));
const timers = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
console.log(
  `\nverify() / plain: ${(ours / floor).toFixed(2)}× (P8 goal: ≤ 2×); through fetch: ` +
    `${(fetched / floor).toFixed(2)}×; timers still active after the last answer: ${timers}`,
);
zitauth.close();
viaFetch.close();
agent.destroy();
child.disconnect();
