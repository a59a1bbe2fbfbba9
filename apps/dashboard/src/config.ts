import { fields, helpText, loadConfig } from '@tickflow/config';
import { DEFAULT_REDIS_PREFIX } from '@tickflow/contracts';

/** Comma-separated http(s) URLs of Prometheus /metrics endpoints; empty means none. */
const metricsUrls = fields.list([]).refine(
  (urls) =>
    urls.every((u) => {
      try {
        return ['http:', 'https:'].includes(new URL(u).protocol);
      } catch {
        return false;
      }
    }),
  { message: 'must be a comma-separated list of http(s) URLs, e.g. http://aggregator:9464/metrics' },
);

/** `*` (any origin), or a comma-separated list of origins such as https://grafana.example.com. */
const corsOrigins = fields.list([]).refine(
  (origins) =>
    origins.every((o) => {
      if (o === '*') return true;
      try {
        const u = new URL(o);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
      } catch {
        return false;
      }
    }),
  { message: "must be '*' or a comma-separated list of origins such as https://app.example.com" },
);

/** The dashboard's whole configuration: environment first, flags override, validated at start-up. */
export const dashboardConfigSpec = {
  redisUrl: {
    env: 'REDIS_URL',
    flag: 'redis-url',
    schema: fields.url('redis://localhost:6379', ['redis:', 'rediss:']),
    help: 'Redis URL (latest prices, alerts channel)',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: 'database-url',
    schema: fields.url('postgres://localhost:5432/tickflow', ['postgres:', 'postgresql:']),
    help: 'PostgreSQL/TimescaleDB URL (bars_1m, price_alerts; read only)',
  },
  redisPrefix: {
    env: 'REDIS_PREFIX',
    flag: 'redis-prefix',
    schema: fields.string(DEFAULT_REDIS_PREFIX),
    help: 'Redis key prefix',
  },
  port: {
    env: 'DASHBOARD_PORT',
    flag: 'port',
    schema: fields.integer(8080, 0, 65535),
    help: 'HTTP port (default 8080; 0: any free port)',
  },
  host: {
    env: 'DASHBOARD_HOST',
    flag: 'host',
    schema: fields.string('0.0.0.0'),
    help: 'address to listen on (default 0.0.0.0)',
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    flag: 'cors-origins',
    schema: corsOrigins,
    help: "origins allowed to call the API from a browser ('*' for any; default: same origin only)",
  },
  rateLimit: {
    env: 'RATE_LIMIT',
    flag: 'rate-limit',
    schema: fields.integer(1200, 0, 1_000_000),
    help: 'requests per minute per client address (default 1200; 0: no limit; probes and /metrics exempt)',
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    flag: 'trust-proxy',
    boolean: true,
    schema: fields.boolean(false),
    help: 'take the client address from X-Forwarded-For (behind an ingress)',
  },
  metricsUrls: {
    env: 'METRICS_URLS',
    flag: 'metrics-urls',
    schema: metricsUrls,
    help: 'comma-separated Prometheus /metrics URLs of the pipeline apps, for the health panel',
  },
  scrapeIntervalMs: {
    env: 'METRICS_SCRAPE_INTERVAL',
    flag: 'scrape-interval',
    schema: fields.durationMs(2000, 250),
    help: 'how often to read METRICS_URLS',
  },
  streamIntervalMs: {
    env: 'STREAM_INTERVAL',
    flag: 'stream-interval',
    schema: fields.durationMs(250, 50),
    help: 'latest-price coalescing period: at most one update per symbol per period',
  },
  maxStreamClients: {
    env: 'STREAM_MAX_CLIENTS',
    flag: 'stream-max-clients',
    schema: fields.integer(500, 1, 100_000),
    help: 'concurrent SSE + WebSocket clients (more get 503)',
  },
  clientQueue: {
    env: 'STREAM_CLIENT_QUEUE',
    flag: 'stream-client-queue',
    schema: fields.integer(256, 4, 100_000),
    help: 'messages buffered per stream client before a slow client is dropped',
  },
  stallTimeoutMs: {
    env: 'STREAM_STALL_TIMEOUT',
    flag: 'stream-stall-timeout',
    schema: fields.durationMs(30_000, 1000),
    help: 'drop a stream client whose socket accepted nothing for this long',
  },
  dbPoolMax: {
    env: 'DB_POOL_MAX',
    flag: 'db-pool-max',
    schema: fields.integer(4, 1, 100),
    help: 'PostgreSQL connections',
  },
  webBuild: {
    env: 'DASHBOARD_WEB_BUILD',
    flag: 'web-build',
    schema: fields.oneOf(['auto', 'always', 'never'] as const, 'auto'),
    help: 'build the page with Vite at start-up: auto (when missing or stale), always, never',
  },
  webDir: {
    env: 'DASHBOARD_WEB_DIR',
    flag: 'web-dir',
    schema: fields.optionalString(),
    help: 'serve a prebuilt page from this directory (default: apps/dashboard/dist-web)',
  },
};

export type DashboardConfig = ReturnType<typeof loadDashboardConfig>;

export function loadDashboardConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(dashboardConfigSpec, argv, env);
}

export const dashboardHelp = `Usage: tickflow dashboard [flags]

Serves the live web page (price board, candlestick chart, alerts feed, pipeline health) and the read
API: /api/v1/symbols, /api/v1/latest, /api/v1/bars, /api/v1/alerts, /api/v1/board, /api/v1/pipeline,
/api/v1/stream (Server-Sent Events) and /api/v1/ws (WebSocket), documented at /openapi.json. Reads
Redis (latest prices, alerts channel) and PostgreSQL (bars_1m, price_alerts); writes nothing.
Also /healthz, /readyz and /metrics.

Flags [environment variable]:
${helpText(dashboardConfigSpec)}`;
