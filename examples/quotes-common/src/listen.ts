/**
 * Listening and stopping. The API binds to 127.0.0.1 only: it is an example, and a test
 * IdP's tokens should never protect anything reachable from the network. Stopping lets
 * requests in flight finish, but not for ever: a keep-alive client cannot hold it open.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long requests in flight may take to finish on shutdown, in milliseconds. */
const DRAIN_MS = 5_000;

/** A listening server. */
export interface Listening {
  readonly server: Server;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops accepting, waits for requests in flight (at most 5 s), then drops connections. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0 picks a free port). */
export async function listen(handler: RequestListener, port: number): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://127.0.0.1:${actual}`,
    close: () => (closing ??= stop(server)),
  };
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * Runs `shutdown` once on the first SIGINT or SIGTERM; a second signal exits at once,
 * for when something hangs.
 */
export function onShutdown(shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: shutting down…`);
    shutdown().then(
      () => process.exit(process.exitCode ?? 0),
      (error: unknown) => {
        console.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
