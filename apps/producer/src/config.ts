import { ConfigError, fields, helpText, loadConfig } from '@tickflow/config';
import { DEFAULT_TOPICS } from '@tickflow/contracts';
import { z } from 'zod';
import { DEFAULT_SYMBOLS } from './sources/synthetic.ts';

const SYMBOL = /^[A-Z0-9][A-Z0-9._:\-/]{0,31}$/;

/** `max` or a positive number of messages per second; `max` is Infinity (back-pressure bounds it). */
const rate = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    if (v.trim().toLowerCase() === 'max') return Number.POSITIVE_INFINITY;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      ctx.addIssue({ code: 'custom', message: "must be a positive number of messages per second or 'max'" });
      return z.NEVER;
    }
    return n;
  });

export const producerConfigSpec = {
  brokers: {
    env: 'KAFKA_BROKERS',
    flag: 'brokers',
    schema: fields.brokers('localhost:9092'),
    help: 'Kafka bootstrap servers',
  },
  topic: {
    env: 'TOPIC_RAW',
    flag: 'topic',
    schema: fields.string(DEFAULT_TOPICS.rawMarketData),
    help: 'trades topic',
  },
  source: {
    env: 'PRODUCER_SOURCE',
    flag: 'source',
    schema: fields.oneOf(['synthetic', 'replay', 'binance', 'finnhub'] as const, 'synthetic'),
    help: 'where trades come from',
  },
  rate: {
    env: 'PRODUCER_RATE',
    flag: 'rate',
    schema: rate,
    help: "messages per second, or 'max' (synthetic default 1000; replay default max)",
  },
  symbols: {
    env: 'PRODUCER_SYMBOLS',
    flag: 'symbols',
    schema: fields.list(DEFAULT_SYMBOLS).refine((l) => l.every((s) => SYMBOL.test(s)), {
      message: 'symbols must be upper-case, e.g. AAPL,BTCUSDT',
    }),
    help: 'comma-separated symbols',
  },
  durationMs: {
    env: 'PRODUCER_DURATION',
    flag: 'duration',
    schema: fields.optionalDurationMs(1),
    help: 'stop after this long (e.g. 60s)',
  },
  count: {
    env: 'PRODUCER_COUNT',
    flag: 'count',
    schema: fields.integer(0, 0),
    help: 'stop after this many messages (0: no limit)',
  },
  file: { env: 'PRODUCER_FILE', flag: 'file', schema: fields.optionalString(), help: 'replay input file' },
  format: {
    env: 'PRODUCER_FORMAT',
    flag: 'format',
    schema: fields.oneOf(['jsonl', 'binance', 'finnhub'] as const, 'jsonl'),
    help: 'replay file format',
  },
  seed: { env: 'PRODUCER_SEED', flag: 'seed', schema: fields.integer(1), help: 'synthetic generator seed' },
  compression: {
    env: 'KAFKA_COMPRESSION',
    flag: 'compression',
    schema: fields.oneOf(['lz4', 'zstd', 'none', 'gzip', 'snappy'] as const, 'lz4'),
    help: 'Kafka compression codec',
  },
  lingerMs: {
    env: 'KAFKA_LINGER_MS',
    flag: 'linger-ms',
    schema: fields.integer(5, 0, 1000),
    help: 'producer batching delay',
  },
  window: {
    env: 'PRODUCER_WINDOW',
    flag: 'window',
    schema: fields.integer(20_000, 1, 1_000_000),
    help: 'max unacknowledged messages (back-pressure bound)',
  },
  partitions: {
    env: 'TOPIC_PARTITIONS',
    flag: 'partitions',
    schema: fields.integer(6, 1, 10_000),
    help: 'partitions when creating the topic',
  },
  createTopics: {
    env: 'CREATE_TOPICS',
    flag: 'create-topics',
    boolean: true,
    schema: fields.boolean(true),
    help: 'create the topic if missing',
  },
  statsIntervalMs: {
    env: 'STATS_INTERVAL',
    flag: 'stats-interval',
    schema: fields.durationMs(5000, 100),
    help: 'how often to print stats',
  },
  clientId: {
    env: 'KAFKA_CLIENT_ID',
    flag: 'client-id',
    schema: fields.string(`tickflow-producer-${process.pid}`),
    help: 'Kafka client id',
  },
};

export type ProducerConfig = ReturnType<typeof loadProducerConfig>;

export function loadProducerConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadConfig(producerConfigSpec, argv, env);
  if (cfg.source === 'replay' && !cfg.file) {
    throw new ConfigError(['--source replay needs --file PATH (or PRODUCER_FILE)']);
  }
  return cfg;
}

export const producerHelp = `Usage: tickflow produce [flags]

Publishes trades as tickflow.v1.Trade Protobuf to Kafka, keyed by symbol (one symbol, one
partition, in order), with an idempotent producer and a bounded window of unacknowledged sends.

Examples:
  tickflow produce --rate 10000 --duration 60s
  tickflow produce --source replay --file trades.jsonl
  tickflow produce --source replay --format binance --file binance-trades.jsonl --rate 500

Flags [environment variable]:
${helpText(producerConfigSpec)}`;
