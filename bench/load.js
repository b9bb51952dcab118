// A small closed-loop HTTP load generator: `connections` keep-alive clients each send
// the next request as soon as the previous answer arrives, for `durationMs`. It runs in
// its own process, apart from the server under test, so the two do not share an event
// loop. Only loopback targets are used.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * @param {{ port: number, path: string, headers?: Record<string, string>, connections?: number, durationMs?: number }} options
 * @returns {Promise<{ requests: number, rps: number, statuses: Record<string, number>, p50Ms: number, p99Ms: number }>}
 */
export async function runLoad({ port, path, headers = {}, connections = 32, durationMs = 3000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const statuses = {};
  const latencies = [];
  let requests = 0;
  const deadline = performance.now() + durationMs;

  const once = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = http.request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          latencies.push(performance.now() - started);
          requests += 1;
          resolve();
        });
      });
      req.on('error', () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end();
    });

  const client = async () => {
    while (performance.now() < deadline) await once();
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: connections }, client));
  const elapsed = performance.now() - began;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests, rps: (requests / elapsed) * 1000, statuses, p50Ms: at(0.5), p99Ms: at(0.99) };
}
