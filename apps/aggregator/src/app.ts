import { BatchConsumer, KafkaProducer, OffsetCommitter, type PartitionOffset } from '@tickflow/kafka';
import {
  AlertWriter,
  createPool,
  createTradeWriter,
  inspectServer,
  migrate,
  writerOptionsFor,
} from '@tickflow/storage';
import {
  formatCount,
  formatMs,
  type Logger,
  RateMeter,
  startHealthServer,
  startTracing,
  type Tracing,
  tracingConfigFromEnv,
} from '@tickflow/telemetry';
import type { AggregatorConfig } from './config.ts';
import { MarketAggregator } from './core/index.ts';
import { type AggregatorErrorCounters, type AggregatorMetrics, createAggregatorMetrics } from './metrics.ts';
import { BatchPipeline, type Sinks } from './pipeline.ts';
import { KafkaOutputs } from './sinks/kafka-outputs.ts';
import { RedisSink } from './sinks/redis-latest.ts';
import { KafkaBatchTracer } from './tracing.ts';

export interface AggregatorHandle {
  pipeline: BatchPipeline;
  /** Resolves when the aggregator has drained, committed and closed everything. */
  done: Promise<void>;
}

/**
 * Wires the aggregator: Kafka source -> decode/validate -> pure core -> sinks (PostgreSQL, Redis,
 * Kafka outputs), in one loop: poll, process, commit. Stops when `signal` aborts: the in-flight
 * batch is finished and committed, the group is left cleanly, then connections close.
 */
export async function startAggregator(
  cfg: AggregatorConfig,
  signal: AbortSignal,
  log: Logger,
  tracing?: Tracing,
): Promise<AggregatorHandle> {
  const traces = tracing ?? (await startTracing(tracingConfigFromEnv({}, 'tickflow-aggregator'), { log }));
  const errors: AggregatorErrorCounters = { commitFailures: 0, kafkaClientErrors: 0 };
  const clientError = (e: Error) => {
    errors.kafkaClientErrors++;
    log.warn(e.message);
  };
  const pool = await createPool(cfg.databaseUrl, { max: 8 });
  if (cfg.migrate) {
    const result = await migrate(pool, { timescale: cfg.timescale });
    log.info('database ready', { mode: result.mode, applied: result.applied });
  }
  // PGlite aborts on large protocol messages, so the write chunking depends on the server.
  const writeOptions = writerOptionsFor(await inspectServer(pool));
  if (cfg.dbChunkRows > 0) writeOptions.chunkRows = cfg.dbChunkRows;
  const trades = createTradeWriter(pool, writeOptions);
  const alertsDb = new AlertWriter(pool, writeOptions);
  const redis = await RedisSink.connect(cfg.redisUrl, cfg.redisPrefix, (e) => log.warn(e.message));
  const producer = await KafkaProducer.connect({
    brokers: cfg.brokers,
    clientId: `${cfg.clientId}-outputs`,
    window: 50_000,
    lingerMs: 1,
    onError: clientError,
  });
  const outputs = new KafkaOutputs(producer, {
    bars: cfg.barsTopic,
    alerts: cfg.alertsTopic,
    deadLetters: cfg.dlqTopic,
  });
  const sinks: Sinks = {
    storeTrades: (t, fresh) => trades.write(t, { fresh }),
    storeAlerts: (a) => alertsDb.write(a),
    writeLatest: (l) => redis.writeLatest(l),
    publishAlerts: (a) => redis.publishAlerts(a),
    writeBars: (b) => outputs.writeBars(b),
    writeAlerts: (a) => outputs.writeAlerts(a),
    writeDeadLetters: (d) => outputs.writeDeadLetters(d),
  };
  const core = new MarketAggregator({
    intervals: [
      { name: '1s', lengthUs: 1_000_000 },
      { name: '1m', lengthUs: 60_000_000 },
    ],
    allowedLatenessUs: Math.round(cfg.allowedLatenessMs * 1000),
    alertWindowUs: Math.round(cfg.alertWindowMs * 1000),
    alertThresholdPct: cfg.alertThresholdPct,
  });
  // Aborted when the drain deadline after a shutdown signal passes: sink retries then give up
  // (uncommitted messages are redelivered later) instead of blocking the exit forever.
  const hardStop = new AbortController();
  const onStop = () => setTimeout(() => hardStop.abort(), cfg.shutdownTimeoutMs).unref();
  if (signal.aborted) onStop();
  else signal.addEventListener('abort', onStop, { once: true });
  // The metrics read the pipeline's state, and the pipeline reports sink writes to them.
  let metrics: AggregatorMetrics | undefined;
  const pipeline = new BatchPipeline(core, sinks, {
    maxMessageBytes: cfg.maxMessageBytes,
    signal: hardStop.signal,
    onBatch: (n) => metrics?.onBatch(n),
    onSinkWrite: (sink, records, seconds) => metrics?.onSinkWrite(sink, records, seconds),
    ...(traces.enabled
      ? {
          tracer: new KafkaBatchTracer(traces, {
            inputTopic: cfg.inputTopic,
            group: cfg.groupId,
            clientId: cfg.clientId,
            outputs: { bars: cfg.barsTopic, alerts: cfg.alertsTopic, deadLetters: cfg.dlqTopic },
          }),
        }
      : {}),
    onSinkRetry: (sink, attempt, err, delay) =>
      log.warn(`${sink} write failed, retrying; consumption paused`, {
        attempt,
        delayMs: delay,
        error: err.message,
      }),
  });

  let inFlight: Promise<unknown> = Promise.resolve();
  const committer = new OffsetCommitter({
    commit: (offsets) => consumer.commit(offsets),
    minIntervalMs: cfg.commitIntervalMs,
    onError: (e) => {
      errors.commitFailures++;
      log.warn('offset commit failed; messages will be redelivered', { error: e.message });
    },
  });
  let connected: BatchConsumer | undefined;
  metrics = createAggregatorMetrics({ pipeline, consumer: () => connected, errors, tracing: traces.stats });
  const consumer = await BatchConsumer.connect({
    brokers: cfg.brokers,
    groupId: cfg.groupId,
    clientId: cfg.clientId,
    topics: [cfg.inputTopic],
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    onAssign: (parts) => log.info('partitions assigned', { partitions: parts.map((p) => p.partition) }),
    onRevoke: async (parts) => {
      await inFlight.catch(() => undefined);
      await committer.flush();
      const dropped = pipeline.forgetPartitions(parts);
      log.info('partitions revoked', { partitions: parts.map((p) => p.partition), symbolsDropped: dropped });
    },
    onError: clientError,
  });
  connected = consumer;

  const stats = startStatsReporter(pipeline, consumer, cfg.statsIntervalMs, log);
  const health =
    cfg.metricsPort > 0
      ? await startHealthServer({
          port: cfg.metricsPort,
          ready: () => !signal.aborted && pipeline.failingSinks.size === 0,
          metrics: (metrics as AggregatorMetrics).render,
        })
      : undefined;
  if (health) log.info('health and metrics endpoints', { url: `http://0.0.0.0:${health.port}/metrics` });
  log.info('aggregating', { input: cfg.inputTopic, group: cfg.groupId });

  const done = (async () => {
    // Commits follow batch order, one request at a time; offsets of batches finished meanwhile are
    // merged into the next request. A failure (e.g. the partition was just revoked) only means
    // those messages are redelivered, which the idempotent sinks absorb.
    const commit = (offsets: PartitionOffset[]) => committer.add(offsets);
    // 'waiting' for the first stored trade, then the time the warm-up ends, then 'off'.
    let warmup: 'off' | 'waiting' | number = cfg.latencyWarmupMs > 0 ? 'waiting' : 'off';
    // Unfinished batches, oldest first. They finish in order (the pipeline chains them).
    const pending: Promise<void>[] = [];
    try {
      while (!signal.aborted) {
        if (warmup === 'waiting' && pipeline.stats.stored > 0) {
          warmup = performance.now() + cfg.latencyWarmupMs;
        } else if (typeof warmup === 'number' && performance.now() >= warmup) {
          pipeline.latency.resetTotals();
          warmup = 'off';
        }
        const messages = await consumer.poll(cfg.maxBatch, cfg.pollTimeoutMs);
        // Several batches in flight: this one's INSERT runs while earlier ones finish theirs and
        // their outputs, so a slow commit does not hold up polling; commits still follow batch order.
        const work = pipeline.process(messages).then(commit);
        work.catch(() => undefined); // failures surface through `pending` below and in finally
        inFlight = work;
        pending.push(work);
        if (pending.length >= cfg.maxInFlight) await pending.shift();
      }
    } finally {
      // Stop reporting before the clients close underneath the timers.
      clearInterval(stats);
      try {
        await inFlight.catch(() => undefined);
        await committer.flush();
        await consumer.close();
        await producer.close();
        await redis.close();
        await pool.end();
      } finally {
        await health?.close();
        log.info(
          'aggregator stopped',
          { ...pipeline.stats },
          {
            kind: 'summary',
            e2e: pipeline.latency.endToEnd.summary(),
            toConsumer: pipeline.latency.toConsumer.summary(),
            toRecordTime: pipeline.latency.toRecordTime.summary(),
            fromRecordTime: pipeline.latency.fromRecordTime.summary(),
            processing: pipeline.latency.processing.summary(),
            sinkWrite: pipeline.latency.sinkWrite.summary(),
          },
        );
      }
    }
  })();
  return { pipeline, done };
}

function startStatsReporter(
  pipeline: BatchPipeline,
  consumer: BatchConsumer,
  everyMs: number,
  log: Logger,
): NodeJS.Timeout {
  const stored = new RateMeter();
  let lastStored = 0;
  const timer = setInterval(() => {
    stored.add(pipeline.stats.stored - lastStored);
    lastStored = pipeline.stats.stored;
    const rate = stored.take();
    const e2e = pipeline.latency.endToEnd.interval();
    const lag = consumer.lag().reduce((sum, p) => sum + p.lag, 0);
    // Human-readable message; the same figures as fields for LOG_FORMAT=json consumers (the bench).
    log.info(
      `stored ${formatCount(rate)}/s  e2e p50 ${formatMs(e2e.p50)} p90 ${formatMs(e2e.p90)} p99 ${formatMs(e2e.p99)} ` +
        `p99.9 ${formatMs(e2e.p999)} max ${formatMs(e2e.max)}  lag ${formatCount(lag)}`,
      undefined,
      {
        kind: 'stats',
        rate: Math.round(rate),
        lag,
        e2e,
        toConsumer: pipeline.latency.toConsumer.interval(),
        processing: pipeline.latency.processing.interval(),
        sinkWrite: pipeline.latency.sinkWrite.interval(),
        ...pipeline.stats,
      },
    );
  }, everyMs);
  timer.unref();
  return timer;
}
