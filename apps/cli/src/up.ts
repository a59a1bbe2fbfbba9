import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, fields, helpText, loadConfig } from '@tickflow/config';
import { DEFAULT_TOPICS } from '@tickflow/contracts';
import { ensureTopics } from '@tickflow/kafka';
import { startStack } from '@tickflow/stack';
import { createPool, migrate } from '@tickflow/storage';
import { createLogger } from '@tickflow/telemetry';

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
};

export const upHelp = `Usage: tickflow up [flags]

Runs the whole pipeline on this machine: provisions what is missing (cached in
~/.cache/tickflow), starts Apache Kafka (KRaft), Redis and a database on free loopback ports,
creates the topics, migrates the schema, then runs the producer and the aggregator(s) and shows
their live status until Ctrl-C, when it stops everything it started.

Flags:
${helpText(spec)}`;

const CLI = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${upHelp}\n`);
    return 0;
  }
  let cfg: ReturnType<typeof loadConfig<typeof spec>>;
  try {
    cfg = loadConfig(spec, argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickflow up: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger('up');
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopChildren = () => {
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  // Ctrl-C reaches the children directly (same process group); SIGTERM to `up` is forwarded.
  process.on('SIGINT', stopChildren);
  process.on('SIGTERM', stopChildren);

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
    process.stdout.write(
      `\nTickflow is up (schema: ${migrated.mode}). Connection strings for other terminals:\n` +
        `  export KAFKA_BROKERS=${brokers}\n  export REDIS_URL=${env.REDIS_URL}\n  export DATABASE_URL=${env.DATABASE_URL}\n` +
        `Press Ctrl-C to stop everything.\n\n`,
    );
    if (stopping) return 0;
    for (let i = 0; i < cfg.aggregators; i++) {
      children.push(
        run(`aggregator${cfg.aggregators > 1 ? `-${i + 1}` : ''}`, ['aggregate', '--migrate=false'], env),
      );
    }
    if (!cfg.noProducer) {
      const args = ['produce', '--rate', cfg.rate, ...(cfg.symbols ? ['--symbols', cfg.symbols] : [])];
      children.push(run('producer', args, env));
    }
    const codes = await Promise.all(
      children.map((c) => new Promise<number>((r) => c.once('exit', (code) => r(code ?? 1)))),
    );
    const failed = codes.some((c) => c !== 0);
    if (!stopping && failed) log.error('a pipeline process exited unexpectedly; stopping');
    return failed && !stopping ? 1 : 0;
  } finally {
    stopChildren();
    log.info('stopping Kafka, Redis and the database');
    await stack.stop();
  }
}

/** Runs a tickflow subcommand as its own process (as on Kubernetes), its output prefixed by name. */
function run(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
