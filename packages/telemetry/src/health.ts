import { createServer, type Server } from 'node:http';

export interface HealthServerOptions {
  port: number;
  host?: string;
  /** Liveness: false only when the process is wedged and should be restarted. Default: always true. */
  live?: () => boolean;
  /** Readiness: connected and doing its job (e.g. Kafka, Redis and the database reachable). */
  ready: () => boolean;
  /** Prometheus text exposition for /metrics. */
  metrics?: () => string | Promise<string>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * /healthz, /readyz and /metrics on one small HTTP server: what Kubernetes probes and Prometheus
 * scrape. Binds 0.0.0.0 by default because probes come from the kubelet, not loopback.
 */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/healthz') {
      const ok = opts.live ? opts.live() : true;
      reply(ok ? 200 : 503, ok ? 'ok\n' : 'unhealthy\n');
    } else if (path === '/readyz') {
      const ok = opts.ready();
      reply(ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics' && opts.metrics) {
      Promise.resolve(opts.metrics()).then(
        (text) => reply(200, text, 'text/plain; version=0.0.4; charset=utf-8'),
        (err: Error) => reply(500, `${err.message}\n`),
      );
    } else {
      reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
