import { ConfigError, fields, helpText, loadConfig } from '@tickflow/config';
import { DEFAULT_TOPICS } from '@tickflow/contracts';
import { z } from 'zod';
import { BINANCE_SYMBOL, DEFAULT_BINANCE_WS_URL } from './feeds/binance.ts';
import { DEFAULT_FINNHUB_WS_URL } from './feeds/finnhub.ts';
import { DEFAULT_SYMBOLS, profileFor } from './sources/synthetic.ts';

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
  deliveryReports: {
    env: 'PRODUCER_DELIVERY_REPORTS',
    flag: 'delivery-reports',
    schema: fields.oneOf(['all', 'errors'] as const, 'all'),
    help: "'errors': only failed sends are reported (less CPU; no delivery latency, tracing needs 'all')",
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
  metricsPort: {
    env: 'METRICS_PORT',
    flag: 'metrics-port',
    schema: fields.integer(0, 0, 65535),
    help: 'HTTP port for /healthz, /readyz and /metrics (0: off)',
  },
  // Live feeds (--source binance|finnhub).
  record: {
    env: 'PRODUCER_RECORD',
    flag: 'record',
    schema: fields.optionalString(),
    help: 'live sources: append every raw frame to FILE (replay: --source replay --format binance|finnhub --file FILE)',
  },
  binanceWsUrl: {
    env: 'BINANCE_WS_URL',
    flag: 'binance-ws-url',
    schema: fields.url(DEFAULT_BINANCE_WS_URL, ['ws:', 'wss:']),
    help: 'Binance stream endpoint (combined streams are read from <url>/stream)',
  },
  finnhubWsUrl: {
    env: 'FINNHUB_WS_URL',
    flag: 'finnhub-ws-url',
    schema: fields.url(DEFAULT_FINNHUB_WS_URL, ['ws:', 'wss:']),
    help: 'Finnhub WebSocket endpoint',
  },
  finnhubApiKey: {
    // Environment only: a flag would leak the key into `ps` and shell history. The schema never fails, so a
    // configuration error can never echo the value.
    env: 'FINNHUB_API_KEY',
    schema: z.string().optional(),
    help: 'Finnhub API key (environment only; never logged)',
  },
  idleTimeoutMs: {
    env: 'FEED_IDLE_TIMEOUT',
    flag: 'idle-timeout',
    schema: fields.durationMs(30_000, 10),
    help: 'live: reconnect when nothing (not even a ping/pong) arrives for this long; a heartbeat ping goes out at half',
  },
  reconnectMinMs: {
    env: 'FEED_RECONNECT_MIN',
    flag: 'reconnect-min',
    schema: fields.durationMs(250, 1),
    help: 'live: first reconnect delay (doubles per failed attempt, with jitter)',
  },
  reconnectMaxMs: {
    env: 'FEED_RECONNECT_MAX',
    flag: 'reconnect-max',
    schema: fields.durationMs(30_000, 1),
    help: 'live: largest reconnect delay',
  },
  maxConnectionAgeMs: {
    env: 'FEED_MAX_CONNECTION_AGE',
    flag: 'max-connection-age',
    schema: fields.optionalDurationMs(0),
    help: 'live: replace a connection this old, opening the new one first (binance default 23h, finnhub 0 = never)',
  },
  rotationOverlapMs: {
    env: 'FEED_ROTATION_OVERLAP',
    flag: 'rotation-overlap',
    schema: fields.durationMs(5000, 0),
    help: 'live: how long old and new connections overlap during a rotation',
  },
  dedupeCapacity: {
    env: 'FEED_DEDUPE_CAPACITY',
    flag: 'dedupe-capacity',
    schema: fields.integer(100_000, 1, 10_000_000),
    help: 'live: recent trade ids remembered to suppress repeats after a reconnect',
  },
  feedBuffer: {
    env: 'FEED_BUFFER',
    flag: 'feed-buffer',
    schema: fields.integer(50_000, 1, 10_000_000),
    help: 'live: trades held while Kafka applies back-pressure; beyond it they are dropped and counted',
  },
};

export const LIVE_SOURCES = ['binance', 'finnhub'] as const;
export type LiveSource = (typeof LIVE_SOURCES)[number];

export function isLiveSource(source: string): source is LiveSource {
  return (LIVE_SOURCES as readonly string[]).includes(source);
}

/** Whether the symbols were chosen by the operator (flag or environment) rather than defaulted. */
function symbolsGiven(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env.PRODUCER_SYMBOLS) return true;
  return argv.some((a) => a === '--symbols' || a.startsWith('--symbols='));
}

export type ProducerConfig = ReturnType<typeof loadProducerConfig>;

export function loadProducerConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadConfig(producerConfigSpec, argv, env);
  if (cfg.source === 'replay' && !cfg.file) {
    throw new ConfigError(['--source replay needs --file PATH (or PRODUCER_FILE)']);
  }
  const problems: string[] = [];
  if (isLiveSource(cfg.source)) {
    // The default symbol set mixes equities and crypto; a live feed defaults to the ones its exchange lists.
    if (!symbolsGiven(argv, env)) {
      const kind = cfg.source === 'binance' ? 'crypto' : 'equity';
      cfg.symbols = DEFAULT_SYMBOLS.filter((sym) => profileFor(sym).kind === kind);
    }
    if (cfg.source === 'binance') {
      const bad = cfg.symbols.filter((sym) => !BINANCE_SYMBOL.test(sym));
      if (bad.length > 0) {
        problems.push(
          `--symbols: not Binance spot symbols (letters and digits, e.g. BTCUSDT): ${bad.join(', ')}`,
        );
      }
    }
    if (cfg.source === 'finnhub' && !cfg.finnhubApiKey) {
      problems.push(
        '--source finnhub needs an API key in the environment variable FINNHUB_API_KEY (free at https://finnhub.io/register)',
      );
    }
    const age = cfg.maxConnectionAgeMs;
    if (age !== undefined && age > 0 && age <= cfg.rotationOverlapMs) {
      problems.push(
        `--max-connection-age (${age} ms) must exceed --rotation-overlap (${cfg.rotationOverlapMs} ms), or be 0`,
      );
    }
    if (cfg.reconnectMaxMs < cfg.reconnectMinMs) {
      problems.push(
        `--reconnect-max (${cfg.reconnectMaxMs} ms) must be at least --reconnect-min (${cfg.reconnectMinMs} ms)`,
      );
    }
  } else if (cfg.record) {
    problems.push('--record applies to the live sources only (--source binance|finnhub)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

export const producerHelp = `Usage: tickflow produce [flags]

Publishes trades as tickflow.v1.Trade Protobuf to Kafka, keyed by symbol (one symbol, one
partition, in order), with an idempotent producer and a bounded window of unacknowledged sends.

Examples:
  tickflow produce --rate 10000 --duration 60s
  tickflow produce --source replay --file trades.jsonl
  tickflow produce --source replay --format binance --file samples/binance-trades.jsonl --rate 500
  tickflow produce --source binance --symbols BTCUSDT,ETHUSDT --record binance.jsonl
  FINNHUB_API_KEY=... tickflow produce --source finnhub --symbols AAPL,MSFT

Live sources (binance, finnhub) reconnect with backoff, detect stalls, suppress repeated trades and never
log the API key; see the README (Live market feeds). --rate does not apply to them (the market sets the pace).

Flags [environment variable]:
${helpText(producerConfigSpec)}`;
