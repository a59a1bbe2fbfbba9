import type { Logger } from '@tickflow/telemetry';
import type { ProducerConfig } from '../config.ts';
import { BINANCE_DEFAULT_MAX_CONNECTION_AGE_MS, binanceProtocols } from './binance.ts';
import { finnhubProtocol } from './finnhub.ts';
import { LiveFeed } from './live-feed.ts';
import type { FeedProtocol } from './protocol.ts';
import { FrameRecorder } from './recorder.ts';

/** The live feed `tickflow produce --source binance|finnhub` runs, built from its configuration. */
export async function openLiveFeed(cfg: ProducerConfig, log: Logger, signal: AbortSignal): Promise<LiveFeed> {
  let protocols: FeedProtocol[];
  let maxAge = cfg.maxConnectionAgeMs;
  if (cfg.source === 'binance') {
    protocols = binanceProtocols({ symbols: cfg.symbols, baseUrl: cfg.binanceWsUrl });
    maxAge ??= BINANCE_DEFAULT_MAX_CONNECTION_AGE_MS;
  } else if (cfg.source === 'finnhub') {
    protocols = [
      finnhubProtocol({ symbols: cfg.symbols, apiKey: cfg.finnhubApiKey ?? '', baseUrl: cfg.finnhubWsUrl }),
    ];
    maxAge ??= 0;
  } else {
    throw new RangeError(`--source ${cfg.source} is not a live feed`);
  }
  const recorder = cfg.record ? await FrameRecorder.open(cfg.record) : undefined;
  if (recorder) log.info('recording raw frames', { file: recorder.path });
  return new LiveFeed({
    protocols,
    connection: {
      idleTimeoutMs: cfg.idleTimeoutMs,
      backoff: { initialMs: cfg.reconnectMinMs, maxMs: cfg.reconnectMaxMs, multiplier: 2, jitter: 0.5 },
      stableAfterMs: Math.max(cfg.idleTimeoutMs, 10_000),
      maxConnectionAgeMs: maxAge,
      rotationOverlapMs: cfg.rotationOverlapMs,
    },
    dedupeCapacity: cfg.dedupeCapacity,
    bufferCapacity: cfg.feedBuffer,
    ...(recorder ? { recorder } : {}),
    log: log.child(cfg.source),
    signal,
  });
}
