// Fastify wiring: plugins (CORS, rate limit, SSE, WebSocket, static files), security headers, the JSON
// error format, request metrics, and the routes. Takes its data sources as arguments so tests can run it
// on fakes; app.ts connects the real Redis and PostgreSQL.
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import { fastifySSE } from '@fastify/sse';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { Logger } from '@tickflow/telemetry';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PipelineHealth } from './api-types.ts';
import { toApiError } from './errors.ts';
import type { StreamHub } from './live/hub.ts';
import type { LatestSource } from './live/redis-latest.ts';
import type { Metrics } from './metrics.ts';
import type { BarStore } from './queries.ts';
import { apiRoutes } from './routes/api.ts';
import { opsRoutes } from './routes/ops.ts';
import { streamRoutes } from './routes/stream.ts';

export interface ServerDeps {
  latest: LatestSource;
  store: BarStore;
  hub: StreamHub;
  /** Refreshes the hub's price snapshot before a stream client joins. */
  prime: () => Promise<void>;
  health: () => PipelineHealth;
  readiness: () => Promise<Record<string, boolean>>;
  metrics: Metrics;
  log: Logger;
  /** Counts stream connections per transport. */
  onStreamConnect?: (transport: 'sse' | 'ws') => void;
}

export interface ServerOptions {
  /** The built page, or null (then / explains how to build it). */
  webDir: string | null;
  webProblem?: string | undefined;
  corsOrigins: readonly string[];
  /** Requests per minute per client address; 0 disables. */
  rateLimit: number;
  trustProxy: boolean;
  wsPingIntervalMs?: number;
  /** Called for every route registered (tests check each one is documented). */
  onRoute?: (method: string, url: string) => void;
}

/** Content-Security-Policy of the page: everything from this origin, nothing else (works offline). */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function buildServer(deps: ServerDeps, options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    trustProxy: options.trustProxy,
    forceCloseConnections: true,
    return503OnClosing: true,
    // Unknown query parameters are a 400 (a misspelt `limt=` must not be silently ignored).
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false },
    },
  });
  const { onRoute } = options;
  if (onRoute) {
    app.addHook('onRoute', (r) => {
      for (const m of Array.isArray(r.method) ? r.method : [r.method]) onRoute(m, r.url);
    });
  }
  const requests = deps.metrics.counter(
    'tickflow_dashboard_http_requests_total',
    'HTTP requests by route and status',
  );
  const requestSeconds = deps.metrics.counter(
    'tickflow_dashboard_http_request_seconds_total',
    'Total time spent answering HTTP requests, by route',
  );

  app.setErrorHandler((err, req, reply) => {
    const body = toApiError(err);
    if (body.statusCode >= 500) {
      deps.log.warn(`${req.method} ${req.url} failed`, {
        status: body.statusCode,
        error: (err as Error).message,
      });
    }
    reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route for ${req.method} ${req.url.split('?')[0]}`,
    });
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      reply.header('content-security-policy', PAGE_CSP);
      reply.header('x-frame-options', 'DENY');
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests({ route, method: req.method, status: String(reply.statusCode) });
    requestSeconds({ route }, reply.elapsedTime / 1000);
  });

  if (options.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: options.corsOrigins.includes('*') ? '*' : [...options.corsOrigins],
      methods: ['GET', 'HEAD', 'OPTIONS'],
      maxAge: 600,
    });
  }
  if (options.rateLimit > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      max: options.rateLimit,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, ctx) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `rate limit exceeded: at most ${ctx.max} requests per minute; retry in ${ctx.after}`,
      }),
    });
  }
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });

  await app.register(opsRoutes, { readiness: deps.readiness, metrics: deps.metrics });
  await app.register(apiRoutes, { latest: deps.latest, store: deps.store, health: deps.health });
  await app.register(streamRoutes, {
    hub: deps.hub,
    prime: deps.prime,
    ...(deps.onStreamConnect ? { onConnect: deps.onStreamConnect } : {}),
    ...(options.wsPingIntervalMs ? { pingIntervalMs: options.wsPingIntervalMs } : {}),
  });

  if (options.webDir !== null) {
    await app.register(fastifyStatic, {
      root: options.webDir,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        // Vite puts content hashes in asset names: cache them forever; always revalidate the page itself.
        reply.header(
          'cache-control',
          /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    app.get('/', async (_req, reply) => {
      reply.code(503).type('text/html; charset=utf-8');
      return `<!doctype html><meta charset="utf-8"><title>Tickflow dashboard</title><h1>Tickflow dashboard</h1>
<p>The page is not available: ${escapeHtml(options.webProblem ?? 'not built')}.</p>
<p>The API works: <a href="openapi.json">openapi.json</a>.</p>`;
    });
  }
  return app;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
