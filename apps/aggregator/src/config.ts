import { fields, helpText, loadConfig } from '@tickflow/config';
import {
  AGGREGATOR_GROUP,
  DEFAULT_MAX_TRADE_BYTES,
  DEFAULT_REDIS_PREFIX,
  DEFAULT_TOPICS,
} from '@tickflow/contracts';

/** The aggregator's whole configuration: environment first, flags override, validated at start-up. */
export const aggregatorConfigSpec = {
  brokers: {
    env: 'KAFKA_BROKERS',
    flag: 'brokers',
    schema: fields.brokers('localhost:9092'),
    help: 'Kafka bootstrap servers',
  },
  redisUrl: {
    env: 'REDIS_URL',
    flag: 'redis-url',
    schema: fields.url('redis://localhost:6379', ['redis:', 'rediss:']),
    help: 'Redis URL',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: 'database-url',
    schema: fields.url('postgres://localhost:5432/tickflow', ['postgres:', 'postgresql:']),
    help: 'PostgreSQL/TimescaleDB URL',
  },
  groupId: {
    env: 'KAFKA_GROUP_ID',
    flag: 'group',
    schema: fields.string(AGGREGATOR_GROUP),
    help: 'consumer group',
  },
  inputTopic: {
    env: 'TOPIC_RAW',
    flag: 'input-topic',
    schema: fields.string(DEFAULT_TOPICS.rawMarketData),
    help: 'trades topic',
  },
  barsTopic: {
    env: 'TOPIC_BARS',
    flag: 'bars-topic',
    schema: fields.string(DEFAULT_TOPICS.aggregatedMetrics),
    help: 'bars topic',
  },
  alertsTopic: {
    env: 'TOPIC_ALERTS',
    flag: 'alerts-topic',
    schema: fields.string(DEFAULT_TOPICS.priceAlerts),
    help: 'alerts topic',
  },
  dlqTopic: {
    env: 'TOPIC_DLQ',
    flag: 'dlq-topic',
    schema: fields.string(DEFAULT_TOPICS.deadLetterQueue),
    help: 'dead-letter topic',
  },
  redisPrefix: {
    env: 'REDIS_PREFIX',
    flag: 'redis-prefix',
    schema: fields.string(DEFAULT_REDIS_PREFIX),
    help: 'Redis key prefix',
  },
  maxBatch: {
    env: 'BATCH_MAX',
    flag: 'batch-max',
    schema: fields.integer(5000, 1, 100_000),
    help: 'max messages per batch',
  },
  pollTimeoutMs: {
    env: 'BATCH_WAIT',
    flag: 'batch-wait',
    schema: fields.durationMs(100, 1),
    help: 'max wait for the first message of a batch',
  },
  maxInFlight: {
    env: 'BATCHES_IN_FLIGHT',
    flag: 'batches-in-flight',
    schema: fields.integer(2, 1, 16),
    help: 'batches processed at once: their database writes overlap, offsets still commit in order',
  },
  commitIntervalMs: {
    env: 'COMMIT_INTERVAL',
    flag: 'commit-interval',
    // Each commit request is a write to __consumer_offsets on the group coordinator. Offsets only
    // bound what is redelivered after a crash; the idempotent sinks absorb redeliveries.
    schema: fields.durationMs(100, 0),
    help: 'min time between offset commit requests (batches finished meanwhile share one)',
  },
  maxMessageBytes: {
    env: 'MAX_MESSAGE_BYTES',
    flag: 'max-message-bytes',
    schema: fields.integer(DEFAULT_MAX_TRADE_BYTES, 64, 10_485_760),
    help: 'larger trade messages go to the dead-letter topic',
  },
  allowedLatenessMs: {
    env: 'ALLOWED_LATENESS',
    flag: 'allowed-lateness',
    schema: fields.durationMs(1000, 0),
    help: 'watermark lag behind the newest event time',
  },
  alertWindowMs: {
    env: 'ALERT_WINDOW',
    flag: 'alert-window',
    schema: fields.durationMs(60_000, 1000),
    help: 'price-alert window',
  },
  alertThresholdPct: {
    env: 'ALERT_THRESHOLD_PCT',
    flag: 'alert-threshold-pct',
    schema: fields.number(0.5, 0.000001, 100),
    help: 'alert when |close/open-1| exceeds this, percent',
  },
  migrate: {
    env: 'MIGRATE_ON_START',
    flag: 'migrate',
    boolean: true,
    schema: fields.boolean(true),
    help: 'apply database migrations at start-up',
  },
  timescale: {
    env: 'TIMESCALEDB',
    flag: 'timescaledb',
    schema: fields.oneOf(['auto', 'require', 'off'] as const, 'auto'),
    help: 'use the TimescaleDB extension',
  },
  dbChunkRows: {
    env: 'DB_CHUNK_ROWS',
    flag: 'db-chunk-rows',
    schema: fields.integer(0, 0, 100_000),
    help: 'rows per INSERT (0: by server; PGlite needs <= 500)',
  },
  sessionTimeoutMs: {
    env: 'KAFKA_SESSION_TIMEOUT',
    flag: 'session-timeout',
    schema: fields.durationMs(10_000, 6000),
    help: "how soon a crashed aggregator's partitions move to the others",
  },
  statsIntervalMs: {
    env: 'STATS_INTERVAL',
    flag: 'stats-interval',
    schema: fields.durationMs(5000, 100),
    help: 'how often to print stats',
  },
  latencyWarmupMs: {
    env: 'LATENCY_WARMUP',
    flag: 'latency-warmup',
    schema: fields.durationMs(0, 0),
    help: 'leave the first stretch after the first stored trade out of the end-of-run latency summary',
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT',
    flag: 'shutdown-timeout',
    schema: fields.durationMs(25_000, 100),
    help: 'max time to drain on SIGTERM',
  },
  metricsPort: {
    env: 'METRICS_PORT',
    flag: 'metrics-port',
    schema: fields.integer(0, 0, 65535),
    help: 'HTTP port for /healthz and /metrics (0: off)',
  },
  clientId: {
    env: 'KAFKA_CLIENT_ID',
    flag: 'client-id',
    schema: fields.string(`tickflow-aggregator-${process.pid}`),
    help: 'Kafka client id',
  },
};

export type AggregatorConfig = ReturnType<typeof loadAggregatorConfig>;

export function loadAggregatorConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(aggregatorConfigSpec, argv, env);
}

export const aggregatorHelp = `Usage: tickflow aggregate [flags]

Consumes trades from Kafka (group ${AGGREGATOR_GROUP}), builds 1 s / 1 min bars and price alerts, and
stores trades in PostgreSQL/TimescaleDB, the latest price per symbol in Redis, and bars, alerts and
dead letters in Kafka. Offsets are committed only after every sink has durably taken a batch.

Flags [environment variable]:
${helpText(aggregatorConfigSpec)}`;
