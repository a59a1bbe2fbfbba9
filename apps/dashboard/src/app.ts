// Connects the dashboard to Redis and PostgreSQL and starts serving: one Redis connection for reads, one
// subscriber for the alerts channel, a small read-only pool, the hub with its price poller and the
// pipeline monitor, then fastify.
import { alertFromJson, alertsChannel, alertToJsonObject } from '@tickflow/contracts';
import { createPool } from '@tickflow/storage';
import type { Logger } from '@tickflow/telemetry';
import type { FastifyInstance } from 'fastify';
import { createClient } from 'redis';
import type { DashboardConfig } from './config.ts';
import { StreamHub } from './live/hub.ts';
import { LatestPoller } from './live/latest-poller.ts';
import { PipelineMonitor } from './live/pipeline-health.ts';
import { type RedisClient, RedisLatestStore } from './live/redis-latest.ts';
import { Metrics } from './metrics.ts';
import { SqlBarStore } from './queries.ts';
import { buildServer } from './server.ts';
import { ensureWebBundle } from './web-bundle.ts';

export interface DashboardHandle {
  app: FastifyInstance;
  /** http://host:port/ as reachable from this machine. */
  url: string;
  port: number;
  hub: StreamHub;
  close(): Promise<void>;
}

async function connectRedis(url: string, log: Logger, role: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url, disableOfflineQueue: true });
  let lastError = '';
  client.on('error', (err: Error) => {
    // node-redis reconnects by itself; say so once per distinct error rather than on every retry.
    if (err.message !== lastError) log.warn(`redis (${role}): ${err.message}`);
    lastError = err.message;
  });
  client.on('ready', () => {
    lastError = '';
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('timed out after 10 s')), 10_000).unref(),
  );
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (err) {
    client.destroy();
    throw new Error(`cannot reach Redis at ${url} (REDIS_URL): ${(err as Error).message}`);
  }
  return client;
}

export async function startDashboard(cfg: DashboardConfig, log: Logger): Promise<DashboardHandle> {
  const web = await ensureWebBundle(cfg.webBuild, cfg.webDir, (line) => log.info(line));
  if (web.dir === null) log.warn(`serving the API only: ${web.problem}`);

  const metrics = new Metrics();
  const redis = await connectRedis(cfg.redisUrl, log, 'reads');
  const subscriber = await connectRedis(cfg.redisUrl, log, 'alerts subscription');
  const pool = await createPool(cfg.databaseUrl, {
    max: cfg.dbPoolMax,
    applicationName: 'tickflow-dashboard',
    statementTimeoutMs: 15_000,
    onIdleError: (err) => log.warn(`idle PostgreSQL connection failed: ${err.message}`),
  }).catch(async (err: Error) => {
    await redis.close().catch(() => undefined);
    await subscriber.close().catch(() => undefined);
    throw err;
  });

  const dropped = metrics.counter(
    'tickflow_dashboard_stream_clients_dropped_total',
    'Stream clients dropped for being slow',
  );
  const connects = metrics.counter(
    'tickflow_dashboard_stream_connections_total',
    'Stream connections accepted, by transport',
  );
  const alertsIn = metrics.counter(
    'tickflow_dashboard_alerts_received_total',
    'Alerts received on the Redis channel',
  );
  const alertsBad = metrics.counter(
    'tickflow_dashboard_alerts_malformed_total',
    'Unparseable messages on the alerts channel',
  );
  const hub = new StreamHub({
    maxClients: cfg.maxStreamClients,
    queueLimit: cfg.clientQueue,
    stallTimeoutMs: cfg.stallTimeoutMs,
    onDrop: (reason) => {
      dropped();
      log.warn(`dropped a stream client: ${reason}`);
    },
  });
  const latest = new RedisLatestStore(redis, cfg.redisPrefix);
  let pollErrors = 0;
  const poller = new LatestPoller(latest, hub, {
    intervalMs: cfg.streamIntervalMs,
    onError: (err) => {
      if (pollErrors++ % 100 === 0) log.warn(`latest-price poll failed: ${err.message}`);
    },
  });
  const monitor = new PipelineMonitor(cfg.metricsUrls, {
    intervalMs: cfg.scrapeIntervalMs,
    newestEventUs: () => poller.newestEventUs(),
    onUpdate: (h) => hub.publishHealth(h),
  });

  // One subscription for the whole process, fanned out by the hub to every client.
  const channel = alertsChannel(cfg.redisPrefix);
  await subscriber.subscribe(channel, (message) => {
    try {
      const alert = alertToJsonObject(alertFromJson(message));
      alertsIn();
      hub.publishAlert(alert);
    } catch (err) {
      alertsBad();
      log.warn(`ignoring a malformed message on ${channel}: ${(err as Error).message}`);
    }
  });

  let lastChecks: Record<string, boolean> = {};
  metrics.observe('tickflow_dashboard_stream_clients', 'Connected SSE and WebSocket clients', 'gauge', () => [
    [{}, hub.size],
  ]);
  metrics.observe(
    'tickflow_dashboard_stream_messages_total',
    'Stream messages written, by event',
    'counter',
    () => Object.entries(hub.stats.sent).map(([event, n]) => [{ event }, n]),
  );
  metrics.observe('tickflow_dashboard_latest_polls_total', 'Latest-price polls of Redis', 'counter', () => [
    [{ result: 'ok' }, poller.stats.polls],
    [{ result: 'error' }, poller.stats.errors],
  ]);
  metrics.observe(
    'tickflow_dashboard_up',
    'Whether each dependency answered the last readiness check',
    'gauge',
    () => Object.entries(lastChecks).map(([dependency, ok]) => [{ dependency }, ok ? 1 : 0]),
  );

  let checkedAt = 0;
  let checking: Promise<Record<string, boolean>> | undefined;
  const readiness = async (): Promise<Record<string, boolean>> => {
    if (Date.now() - checkedAt < 1000) return lastChecks;
    checking ??= (async () => {
      const [redisOk, dbOk] = await Promise.all([
        redis.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
        pool.query('SELECT 1').then(
          () => true,
          () => false,
        ),
      ]);
      lastChecks = { redis: redisOk, alerts_subscription: subscriber.isReady, postgres: dbOk };
      checkedAt = Date.now();
      return lastChecks;
    })().finally(() => {
      checking = undefined;
    });
    return checking;
  };

  const app = await buildServer(
    {
      latest,
      store: new SqlBarStore(pool),
      hub,
      prime: () => poller.prime(),
      health: () => monitor.current,
      readiness,
      metrics,
      log,
      onStreamConnect: (transport) => connects({ transport }),
    },
    {
      webDir: web.dir,
      webProblem: web.problem,
      corsOrigins: cfg.corsOrigins,
      rateLimit: cfg.rateLimit,
      trustProxy: cfg.trustProxy,
    },
  );
  poller.start();
  monitor.start();

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    poller.stop();
    monitor.stop();
    hub.closeAll('server shutting down');
    await app.close();
    await subscriber.close().catch(() => undefined);
    await redis.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  };
  try {
    await app.listen({ port: cfg.port, host: cfg.host });
  } catch (err) {
    await close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new Error(`port ${cfg.port} on ${cfg.host} is in use (DASHBOARD_PORT / --port)`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : cfg.port;
  const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
  return {
    app,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}/`,
    port,
    hub,
    close,
  };
}
