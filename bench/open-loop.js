// An open-loop load generator for latency at a fixed rate (P7): requests are due at
// start + k / rate whatever the server does, and each is written to its connection when
// it falls due, even while earlier ones are still unanswered (HTTP/1.1 pipelining), so a
// stalled server shows up in the percentiles instead of quietly slowing the generator
// (coordinated omission). Each latency is read two ways: from when the request was due
// (what a client feels) and from when it was written (which leaves out the generator's own
// late ticks; a server's stall still counts, since requests keep being written into it).
// Raw keep-alive HTTP/1.1 over `net`, so one core can offer more load than the servers
// under test can take. Run by run.js on the load generator's core:
//   node open-loop.js <port> <path> <rate per s> <duration ms> [authorization]
// Prints one JSON line: { sent, answered, statuses, p50Ms, p99Ms, maxMs (from due),
// writtenP50Ms, writtenP99Ms (from the write), lateP99Ms (write after due) }.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const [port, path, rate, durationMs, authorization] = process.argv.slice(2);
const CONNECTIONS = 32;
const request = Buffer.from(
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (authorization ? `Authorization: ${authorization}\r\n` : '') +
    '\r\n',
);

const fromDue = [];
const fromWrite = [];
const late = [];
const statuses = {};
let sent = 0;

/** One keep-alive connection: writes each request when due, parses answers in order. */
function connection() {
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.setNoDelay(true);
  // [due, written] of each request not answered yet, oldest first.
  const unanswered = [];
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      buffer = buffer.subarray(end + 4 + length);
      const status = head.slice(9, 12);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const now = performance.now();
      const [due, written] = unanswered.shift();
      fromDue.push(now - due);
      fromWrite.push(now - written);
      late.push(written - due);
    }
  });
  socket.on('error', () => {
    statuses.error = (statuses.error ?? 0) + 1;
  });
  return {
    socket,
    push(due) {
      unanswered.push([due, performance.now()]);
      socket.write(request);
    },
  };
}

const pool = Array.from({ length: CONNECTIONS }, connection);
await Promise.all(
  pool.map(({ socket }) => new Promise((resolve) => socket.once('connect', resolve))),
);
const start = performance.now();
const perMs = Number(rate) / 1000;
const total = Math.floor(perMs * Number(durationMs));
// A 1 ms ticker hands every request that fell due to the next connection in turn.
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const dueNow = Math.min(total, Math.floor((performance.now() - start) * perMs));
    while (sent < dueNow) {
      pool[sent % CONNECTIONS].push(start + sent / perMs);
      sent += 1;
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
// Give the last answers a moment, then count whatever is still missing as lost.
const deadline = performance.now() + 2000;
while (fromDue.length < sent && performance.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
for (const { socket } of pool) socket.destroy();
const quantile = (values, q) => {
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
};
console.log(
  JSON.stringify({
    sent,
    answered: fromDue.length,
    statuses,
    p50Ms: quantile(fromDue, 0.5),
    p99Ms: quantile(fromDue, 0.99),
    maxMs: fromDue.at(-1) ?? 0,
    writtenP50Ms: quantile(fromWrite, 0.5),
    writtenP99Ms: quantile(fromWrite, 0.99),
    lateP99Ms: quantile(late, 0.99),
  }),
);
