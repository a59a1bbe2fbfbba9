import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aggregatorNodeOptions } from '@tickflow/aggregator/node-options';
import { fields, helpText, loadConfig } from '@tickflow/config';
import { DEFAULT_TOPICS } from '@tickflow/contracts';
import { ensureTopics } from '@tickflow/kafka';
import { freePort, isPortFree, LOOPBACK, startStack } from '@tickflow/stack';
import { createPool, migrate } from '@tickflow/storage';
import { createLogger, runEntryPoint } from '@tickflow/telemetry';
import { type KafkaExporterServer, startKafkaExporter } from './kafka-exporter.ts';

const spec = {
  database: {
    env: 'TICKFLOW_UP_DATABASE',
    flag: 'database',
    schema: fields.oneOf(['postgres', 'timescale'] as const, 'postgres'),
    help: 'postgres: a real PostgreSQL server; timescale: the PGlite TimescaleDB build (small volumes)',
  },
  rate: { flag: 'rate', schema: fields.string('10000'), help: "synthetic producer rate, msg/s or 'max'" },
  noProducer: {
    flag: 'no-producer',
    boolean: true,
    schema: fields.boolean(false),
    help: 'start everything but the producer',
  },
  aggregators: {
    flag: 'aggregators',
    schema: fields.integer(1, 1, 16),
    help: 'aggregator processes in the consumer group',
  },
  partitions: {
    flag: 'partitions',
    schema: fields.integer(6, 1, 1000),
    help: 'partitions of raw-market-data',
  },
  symbols: {
    flag: 'symbols',
    schema: fields.optionalString(),
    help: 'comma-separated symbols (default: the producer default set)',
  },
  dashboardPort: {
    flag: 'dashboard-port',
    schema: fields.integer(8080, 0, 65535),
    help: 'port of the web dashboard on 127.0.0.1 (default 8080, another free port when taken; 0: any)',
  },
  noDashboard: {
    flag: 'no-dashboard',
    boolean: true,
    schema: fields.boolean(false),
    help: 'do not start the web dashboard',
  },
};

export const upHelp = `Usage: tickflow up [flags]

Runs the whole pipeline on this machine: provisions what is missing (cached in
~/.cache/tickflow), starts Apache Kafka (KRaft), Redis and a database on free loopback ports,
creates the topics, migrates the schema, then runs the producer, the aggregator(s) and the web
dashboard (its URL is printed; default http://127.0.0.1:8080/) and shows their live status until
Ctrl-C, when it stops everything it started. It prints where each process's Prometheus /metrics is,
plus a Kafka lag endpoint with the Kafka Exporter's metric names. OTEL_* variables are passed on
(e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 turns tracing on).

Flags:
${helpText(spec)}`;

const CLI = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));

export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'up',
    help: upHelp,
    load: (args) => loadConfig(spec, args),
    run: up,
  });
}

async function up(cfg: ReturnType<typeof loadConfig<typeof spec>>): Promise<number> {
  const log = createLogger('up');
  const producers: ChildProcess[] = [];
  const aggregators: ChildProcess[] = [];
  const dashboards: ChildProcess[] = [];
  let stopping: Promise<void> | undefined;
  // Children run in their own process groups, so a terminal's Ctrl-C reaches only `up`, which then
  // stops them in order: producers first (they flush), then aggregators (they drain and commit).
  const stopChildren = () => {
    stopping ??= (async () => {
      await Promise.all([...producers, ...dashboards].map(terminate));
      await Promise.all(aggregators.map(terminate));
    })();
    return stopping;
  };
  const onSignal = () => {
    if (stopping) {
      log.warn('second signal: killing the pipeline processes');
      for (const c of [...producers, ...aggregators, ...dashboards])
        if (c.exitCode === null) c.kill('SIGKILL');
      return;
    }
    log.info('stopping the pipeline: producers flush, aggregators drain and commit');
    void stopChildren();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let kafkaExporter: KafkaExporterServer | undefined;
  log.info('starting Kafka, Redis and the database (first run downloads and caches them)');
  const stack = await startStack({ database: cfg.database, kafka: true, redis: true });
  try {
    const brokers = stack.kafka?.brokers as string;
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers,
      REDIS_URL: stack.redis?.url as string,
      DATABASE_URL: stack.database.url,
    };
    await ensureTopics(brokers, [
      { topic: DEFAULT_TOPICS.rawMarketData, partitions: cfg.partitions },
      { topic: DEFAULT_TOPICS.aggregatedMetrics, partitions: cfg.partitions },
      { topic: DEFAULT_TOPICS.priceAlerts, partitions: 1 },
      { topic: DEFAULT_TOPICS.deadLetterQueue, partitions: 1 },
    ]);
    const pool = await createPool(stack.database.url, { max: 1 });
    const migrated = await migrate(pool, {});
    await pool.end();
    // Each aggregator serves /metrics on its own port; the dashboard's health panel reads them.
    const metricsPorts: number[] = [];
    for (let i = 0; i < cfg.aggregators; i++) metricsPorts.push(await freePort());
    const producerMetricsPort = cfg.noProducer ? 0 : await freePort();
    const dashboardPort = cfg.noDashboard ? 0 : await chooseDashboardPort(cfg.dashboardPort, log);
    const dashboardUrl = `http://${LOOPBACK}:${dashboardPort}/`;
    // Consumer-group lag and topic offsets under the Kafka Exporter's names, as Strimzi serves them in
    // a cluster, so a local Prometheus can run the Kafka dashboard and the lag alert.
    kafkaExporter = await startKafkaExporter({ brokers, port: await freePort(), host: LOOPBACK });
    const metricsLines = [
      ...(producerMetricsPort ? [['producer', `http://${LOOPBACK}:${producerMetricsPort}/metrics`]] : []),
      ...metricsPorts.map((port, i) => [
        `aggregator${cfg.aggregators > 1 ? `-${i + 1}` : ''}`,
        `http://${LOOPBACK}:${port}/metrics`,
      ]),
      ...(cfg.noDashboard ? [] : [['dashboard', `${dashboardUrl}metrics`]]),
      ['kafka lag', `${kafkaExporter.url}  (Kafka Exporter metric names)`],
    ].map(([name, url]) => `  ${(name as string).padEnd(14)}${url}\n`);
    process.stdout.write(
      `\nTickflow is up (schema: ${migrated.mode}). Connection strings for other terminals:\n` +
        `  export KAFKA_BROKERS=${brokers}\n  export REDIS_URL=${env.REDIS_URL}\n  export DATABASE_URL=${env.DATABASE_URL}\n` +
        (cfg.noDashboard ? '' : `Dashboard: ${dashboardUrl} (API: ${dashboardUrl}openapi.json)\n`) +
        `Prometheus metrics (/healthz and /readyz on the same ports; see the Observability section of README.md):\n${metricsLines.join('')}` +
        `Press Ctrl-C to stop everything.\n\n`,
    );
    if (stopping) return 0;
    for (let i = 0; i < cfg.aggregators; i++) {
      const name = `aggregator${cfg.aggregators > 1 ? `-${i + 1}` : ''}`;
      aggregators.push(
        run(name, ['aggregate', '--migrate=false'], {
          ...env,
          METRICS_PORT: String(metricsPorts[i]),
          NODE_OPTIONS: aggregatorNodeOptions(process.env.NODE_OPTIONS),
        }),
      );
    }
    if (!cfg.noProducer) {
      const args = ['produce', '--rate', cfg.rate, ...(cfg.symbols ? ['--symbols', cfg.symbols] : [])];
      producers.push(run('producer', args, { ...env, METRICS_PORT: String(producerMetricsPort) }));
    }
    if (!cfg.noDashboard) {
      const metricsUrls = metricsPorts.map((port) => `http://${LOOPBACK}:${port}/metrics`).join(',');
      const args = ['dashboard', '--port', String(dashboardPort), '--host', LOOPBACK];
      dashboards.push(run('dashboard', args, { ...env, METRICS_URLS: metricsUrls }));
    }
    const all = [...producers, ...aggregators, ...dashboards];
    // Runs until a signal stops the children, or one of them dies on its own.
    const first = await Promise.race(all.map(exitOf));
    const unexpected = !stopping;
    if (unexpected) log.error(`a pipeline process exited on its own (code ${first}); stopping the rest`);
    await stopChildren();
    const codes = await Promise.all(all.map(exitOf));
    return unexpected || codes.some((c) => c !== 0) ? 1 : 0;
  } finally {
    await stopChildren();
    await kafkaExporter?.close().catch(() => undefined);
    log.info('stopping Kafka, Redis and the database');
    await stack.stop();
  }
}

/** Runs a tickflow subcommand as its own process (as on Kubernetes), its output prefixed by name. */
function run(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  child.stdout?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  return child;
}

/** The requested port when it is free, else (with a warning) any free one; 0 means any. */
async function chooseDashboardPort(requested: number, log: ReturnType<typeof createLogger>): Promise<number> {
  if (requested !== 0 && (await isPortFree(requested))) return requested;
  const port = await freePort();
  if (requested !== 0) log.warn(`port ${requested} is taken; the dashboard uses ${port} instead`);
  return port;
}

function exitOf(c: ChildProcess): Promise<number> {
  if (c.exitCode !== null) return Promise.resolve(c.exitCode);
  if (c.signalCode !== null) return Promise.resolve(1);
  return new Promise((r) => c.once('exit', (code) => r(code ?? 1)));
}

async function terminate(c: ChildProcess): Promise<void> {
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await exitOf(c);
}
