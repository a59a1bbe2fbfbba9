// Free loopback ports and TCP reachability checks.
import { createConnection, createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

// Ports handed out by this process recently: the OS could give the same ephemeral port twice
// before the first caller binds it, so we never return a port twice from one process.
const handedOut = new Set<number>();

function bindEphemeral(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that is free right now. There is an inherent race until the caller's
 * service binds it; services are started right after allocation and fail loudly if it was taken.
 */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindEphemeral(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free port on ${host}`);
}

/** Several distinct free ports. */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(host));
  return ports;
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host: string = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when host:port can be bound right now (nobody listens there). */
export function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}
