import { encodeTrade, type Trade, validateTrade } from '@tickflow/contracts';
import { type DeliveryCallback, ensureTopics, KafkaProducer, type OutgoingRecord } from '@tickflow/kafka';
import {
  formatCount,
  formatMs,
  LatencyHistogram,
  type Logger,
  RateMeter,
  startHealthServer,
  startTracing,
  type Tracing,
  tracingConfigFromEnv,
} from '@tickflow/telemetry';
import { isLiveSource, type ProducerConfig } from './config.ts';
import { openLiveFeed } from './feeds/from-config.ts';
import type { LiveFeed } from './feeds/live-feed.ts';
import { type FeedStatsSnapshot, formatFeedStats, snapshotFeedStats } from './feeds/stats.ts';
import { createProducerCounters, createProducerMetrics } from './metrics.ts';
import { Pacer, rateReport } from './sources/pacer.ts';
import { createReplayStats, readReplayFile } from './sources/replay.ts';
import { SyntheticSource } from './sources/synthetic.ts';
import { SendTracer } from './tracing.ts';

export interface ProducerStats {
  sent: number;
  acked: number;
  errors: number;
  rejected: number;
  malformedLines: number;
  elapsedMs: number;
  requestedRate: number;
  achievedRate: number;
  /** Live sources only: connection, duplicate, malformed, dropped and skew figures of the feed. */
  feed?: FeedStatsSnapshot;
}

// Key buffers per symbol: a string key is converted to a fresh native copy on every produce().
const keyBuffers = new Map<string, Buffer>();
function keyOf(symbol: string): Buffer {
  let key = keyBuffers.get(symbol);
  if (key === undefined) {
    key = Buffer.from(symbol);
    if (keyBuffers.size < 100_000) keyBuffers.set(symbol, key);
  }
  return key;
}

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * Wires the producer: a trade source -> validation -> Protobuf -> Kafka with a bounded window.
 * Runs until the source ends, --count/--duration is reached, or `signal` aborts; then flushes
 * every in-flight message before resolving.
 */
export async function runProducer(
  cfg: ProducerConfig,
  signal: AbortSignal,
  log: Logger,
  tracing?: Tracing,
): Promise<ProducerStats> {
  const traces = tracing ?? (await startTracing(tracingConfigFromEnv({}, 'tickflow-producer'), { log }));
  const live = isLiveSource(cfg.source);
  if (live && cfg.rate !== undefined) {
    log.warn(
      `--rate does not apply to --source ${cfg.source}: a live feed is forwarded at the market's pace`,
    );
  }
  // A traced send's span ends on its acknowledgement, which errors-only mode never reports.
  const deliveryReports = traces.enabled ? 'all' : cfg.deliveryReports;
  if (deliveryReports !== cfg.deliveryReports)
    log.warn(
      "tracing is on: using --delivery-reports all (a send span ends on the record's acknowledgement)",
    );
  if (cfg.createTopics) await ensureTopics(cfg.brokers, [{ topic: cfg.topic, partitions: cfg.partitions }]);
  const producer = await KafkaProducer.connect({
    brokers: cfg.brokers,
    clientId: cfg.clientId,
    window: cfg.window,
    compression: cfg.compression,
    lingerMs: cfg.lingerMs,
    deliveryReports,
    onError: (e) => log.warn(e.message),
  });

  const deliveryLatency = new LatencyHistogram();
  const counters = createProducerCounters();
  let errors = 0;
  let rejected = 0;
  const onDelivery = (err: Error | null, _r: unknown, latencyUs: number) => {
    if (err) {
      errors++;
      counters.deliveryErrors++;
      if (errors <= 10) log.error(err.message);
    } else {
      deliveryLatency.recordUs(latencyUs);
    }
  };
  const sendTracer = new SendTracer(traces, cfg.topic, cfg.clientId);
  let feed: LiveFeed | undefined;
  const metrics = createProducerMetrics({
    producer,
    counters,
    deliveryLatency,
    tracing: traces.stats,
    feed: () => feed?.stats,
  });
  const health =
    cfg.metricsPort > 0
      ? await startHealthServer({
          port: cfg.metricsPort,
          ready: () => !signal.aborted,
          metrics: metrics.render,
        })
      : undefined;
  if (health) log.info('health and metrics endpoints', { url: `http://0.0.0.0:${health.port}/metrics` });
  // Strictly increasing ingest times make them an arrival sequence: the contract breaks OHLC ties
  // by arrival, and two trades accepted in the same microsecond would otherwise be unordered.
  let lastIngestUs = 0;
  /** Validates, encodes and enqueues; returns the record when the window is full (the caller waits). */
  const trySend = (t: Trade): { record: OutgoingRecord; cb: DeliveryCallback } | undefined => {
    lastIngestUs = Math.max(nowUs(), lastIngestUs + 1);
    t.ingestTimeUs = lastIngestUs;
    const invalid = validateTrade(t);
    if (invalid) {
      rejected++;
      counters.rejected.set(invalid.reason, (counters.rejected.get(invalid.reason) ?? 0) + 1);
      if (rejected <= 10)
        log.warn('refusing invalid trade', { reason: invalid.reason, error: invalid.error });
      return undefined;
    }
    const bytes = encodeTrade(t);
    const record: OutgoingRecord = {
      topic: cfg.topic,
      key: keyOf(t.symbol),
      value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
    };
    // Only sampled messages carry trace headers and a per-message callback.
    const traced = sendTracer.start(t.symbol);
    let cb: DeliveryCallback = onDelivery;
    if (traced) {
      record.headers = traced.headers;
      cb = (err, r, latencyUs, partition, offset) => {
        traced.end(err, partition, offset);
        onDelivery(err, r, latencyUs);
      };
    }
    return producer.trySend(record, cb) ? undefined : { record, cb };
  };
  const waitAndSend = async (pending: { record: OutgoingRecord; cb: DeliveryCallback }) => {
    const waitStart = performance.now();
    counters.backpressureWaits++;
    await producer.send(pending.record, pending.cb);
    counters.backpressureWaitMs += performance.now() - waitStart;
  };
  const send = async (t: Trade) => {
    const pending = trySend(t);
    if (pending) await waitAndSend(pending);
  };

  const requested = live
    ? Number.POSITIVE_INFINITY
    : (cfg.rate ?? (cfg.source === 'replay' ? Number.POSITIVE_INFINITY : 1000));
  const started = performance.now();
  const deadline = cfg.durationMs !== undefined ? started + cfg.durationMs : Number.POSITIVE_INFINITY;
  const limit = cfg.count > 0 ? cfg.count : Number.POSITIVE_INFINITY;
  const stopped = () => signal.aborted || producer.stats.sent >= limit || performance.now() >= deadline;
  const pacer = new Pacer({ ratePerSec: requested, startMs: started });
  const sentRate = new RateMeter();
  let lastSent = 0;
  let malformedLines = 0;

  const stats = setInterval(() => {
    sentRate.add(producer.stats.sent - lastSent);
    lastSent = producer.stats.sent;
    const d = deliveryLatency.interval();
    const report = rateReport(requested, producer.stats.sent, performance.now() - started);
    log.info(
      `sent ${formatCount(sentRate.take())}/s (avg ${formatCount(report.achievedPerSec)}/s of ${Number.isFinite(requested) ? formatCount(requested) : 'max'})  ` +
        `acked ${producer.stats.acked}  errors ${errors}  in-flight ${producer.inFlight}  delivery p50 ${formatMs(d.p50)} p99 ${formatMs(d.p99)}`,
    );
    if (feed) log.info(`${formatFeedStats(feed.stats)}  buffered ${feed.buffered}`);
  }, cfg.statsIntervalMs);
  stats.unref();

  try {
    if (cfg.source === 'synthetic') {
      const source = new SyntheticSource({ seed: cfg.seed, symbols: cfg.symbols });
      while (!stopped()) {
        const due = pacer.due(performance.now());
        if (due === 0) {
          await sleep(Math.max(1, Math.floor(pacer.msUntilNext(performance.now()))));
          continue;
        }
        // Synchronous unless the window is full: no promise per message on the hot path.
        for (let i = 0; i < due && !stopped(); i++) {
          const pending = trySend(source.next(nowUs()));
          if (pending) await waitAndSend(pending);
        }
        // Let delivery reports and timers run between bursts.
        await new Promise((r) => setImmediate(r));
      }
    } else if (live) {
      // --duration and shutdown signals close the feed, which ends the loop even when no trade arrives.
      const stop =
        cfg.durationMs !== undefined
          ? AbortSignal.any([signal, AbortSignal.timeout(cfg.durationMs)])
          : signal;
      feed = await openLiveFeed(cfg, log, stop);
      const feedStats = feed.stats;
      try {
        for await (const trade of feed) {
          await send(trade);
          feedStats.feedToIngestDelay.recordUs(trade.ingestTimeUs - trade.eventTimeUs);
          if (stopped()) break;
        }
      } finally {
        await feed.close();
      }
    } else {
      const counts = createReplayStats();
      for await (const trade of readReplayFile(cfg.file as string, cfg.format, { stats: counts })) {
        if (stopped()) break;
        while (pacer.due(performance.now()) === 0)
          await sleep(Math.max(1, Math.floor(pacer.msUntilNext(performance.now()))));
        await send(trade);
      }
      malformedLines = counts.malformed;
      log.info('replay file read', { ...counts, firstErrors: counts.errors.slice(0, 5) });
    }
  } finally {
    clearInterval(stats);
    await producer.close();
    await health?.close();
  }
  const elapsedMs = performance.now() - started;
  const report = rateReport(requested, producer.stats.acked, elapsedMs);
  const d = deliveryLatency.summary();
  const result: ProducerStats = {
    sent: producer.stats.sent,
    acked: producer.stats.acked,
    errors,
    rejected,
    malformedLines,
    elapsedMs,
    requestedRate: requested,
    achievedRate: report.achievedPerSec,
    ...(feed ? { feed: snapshotFeedStats(feed.stats) } : {}),
  };
  log.info(
    `done: ${result.acked} acked of ${result.sent} sent in ${(elapsedMs / 1000).toFixed(1)}s ` +
      `(${formatCount(report.achievedPerSec)}/s${Number.isFinite(requested) ? ` of ${formatCount(requested)}/s requested` : ''}); ` +
      `delivery p50 ${formatMs(d.p50)} p99 ${formatMs(d.p99)}; errors ${errors}; rejected ${rejected}; malformed lines ${malformedLines}`,
    undefined,
    { kind: 'summary', ...result, requestedRate: Number.isFinite(requested) ? requested : null, delivery: d },
  );
  if (feed) log.info(feedSummary(feed, cfg.record));
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The end-of-run line of a live feed: what arrived, what was suppressed or lost, how the connection fared. */
function feedSummary(feed: LiveFeed, record: string | undefined): string {
  const f = feed.stats;
  const d = f.feedToIngestDelay.summary();
  return (
    `feed ${f.source}: ${f.messages} messages, ${f.trades} trades, ${f.forwarded} forwarded, ${f.duplicates} duplicates, ` +
    `${f.malformed} malformed, ${f.dropped} dropped, ${f.outOfOrder} out of order; ${f.connects} connects, ` +
    `${f.reconnects} reconnects, ${f.idleTimeouts} idle timeouts, ${f.rotations} rotations; ` +
    `skew ${f.skewMs === null ? '-' : formatMs(f.skewMs)}; feed->ingest p50 ${formatMs(d.p50)} p99 ${formatMs(d.p99)}` +
    (record ? `; recorded ${f.recorded} frames to ${record}` : '')
  );
}
