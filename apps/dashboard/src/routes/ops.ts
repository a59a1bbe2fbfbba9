import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';
import { buildOpenApi } from '../openapi.ts';

export interface OpsDeps {
  /** Each dependency's state; ready when all are true. */
  readiness: () => Promise<Record<string, boolean>>;
  metrics: Metrics;
}

const exempt = { config: { rateLimit: false } } as const;

/** Probes, Prometheus metrics and the OpenAPI document; exempt from rate limiting. */
export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  app.get('/healthz', exempt, async (_req, reply) => {
    reply.type('text/plain; charset=utf-8');
    return 'ok\n';
  });

  app.get('/readyz', exempt, async (_req, reply) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    reply.code(ready ? 200 : 503);
    return { ready, checks };
  });

  app.get('/metrics', exempt, async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return deps.metrics.render();
  });

  const doc = JSON.stringify(buildOpenApi());
  app.get('/openapi.json', async (_req, reply) => {
    reply.type('application/json; charset=utf-8');
    return doc;
  });
}
