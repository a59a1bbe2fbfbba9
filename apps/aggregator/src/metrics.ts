import type { BatchConsumer } from '@tickflow/kafka';
import {
  BATCH_SIZE_BUCKETS,
  counterFrom,
  createMetricsRegistry,
  gaugeFrom,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  labelledCounterFrom,
  PreaggregatedHistogram,
  type Registry,
  type TracingStats,
} from '@tickflow/telemetry';
import { type BatchPipeline, SINK_NAMES, type SinkName } from './pipeline.ts';

/** Errors counted by the app around the pipeline. */
export interface AggregatorErrorCounters {
  commitFailures: number;
  kafkaClientErrors: number;
}

export interface AggregatorMetricsSources {
  pipeline: BatchPipeline;
  /** Set once connected (the registry exists before the consumer, to observe its first batches). */
  consumer: () => BatchConsumer | undefined;
  errors: AggregatorErrorCounters;
  tracing: TracingStats;
}

/** `postgres trades` -> `postgres_trades`: the `sink` label value. */
export const sinkLabel = (name: string): string => name.replace(/ /g, '_');

export interface AggregatorMetrics {
  registry: Registry;
  /** Give to BatchPipeline as `onBatch` and `onSinkWrite`. */
  onBatch: (messages: number) => void;
  onSinkWrite: (sink: SinkName, records: number, seconds: number) => void;
  render: () => Promise<string>;
}

/**
 * The aggregator's /metrics. Per-trade latencies go through pre-aggregated buckets filled where the
 * pipeline already records its HDR histograms; per-batch figures use prom-client directly (a few
 * observe calls per batch); counters and gauges are read from the pipeline's state when scraped.
 */
export function createAggregatorMetrics(src: AggregatorMetricsSources): AggregatorMetrics {
  const registry = createMetricsRegistry();
  const { pipeline } = src;
  const s = pipeline.stats;
  const counters: Array<[string, string, () => number]> = [
    ['consumed', 'Messages polled from the trades topic', () => s.consumed],
    ['stored', 'Valid trades durably written to PostgreSQL and Redis (duplicates included)', () => s.stored],
    [
      'duplicates',
      'Valid trades that were already stored (redelivery or replay): not aggregated again',
      () => s.duplicates,
    ],
    ['late_trades', 'Trades too late for an already-emitted bar', () => s.lateTrades],
    ['bars', 'Bars emitted', () => s.bars],
    ['alerts', 'Price alerts emitted', () => s.alerts],
    ['batches', 'Non-empty batches processed', () => s.batches],
    [
      'commit_failures',
      'Offset commits that failed (the messages are redelivered)',
      () => src.errors.commitFailures,
    ],
    [
      'kafka_client_errors',
      'Errors reported by the Kafka consumer and producer clients',
      () => src.errors.kafkaClientErrors,
    ],
    [
      'backpressure_pauses',
      'Times consumption paused because a sink write was failing',
      () => s.backpressurePauses,
    ],
    ['trace_spans_exported', 'Spans delivered to the OTLP endpoint', () => src.tracing.exportedSpans],
    [
      'trace_export_failures',
      'OTLP export calls that failed (their spans are lost)',
      () => src.tracing.failedExports,
    ],
  ];
  for (const [name, help, read] of counters)
    counterFrom(registry, `tickflow_aggregator_${name}_total`, help, read);
  counterFrom(
    registry,
    'tickflow_aggregator_backpressure_paused_seconds_total',
    'Time consumption spent paused by failing sinks',
    () => pipeline.pausedMs() / 1000,
  );
  labelledCounterFrom(
    registry,
    'tickflow_aggregator_dead_letters_total',
    'Messages sent to the dead-letter topic, by reason',
    ['reason'],
    () =>
      [...pipeline.deadLettersByReason].map(([reason, n]) => [{ reason }, n] as [{ reason: string }, number]),
  );
  labelledCounterFrom(
    registry,
    'tickflow_aggregator_sink_errors_total',
    'Failed sink write attempts (each is retried with backoff while consumption pauses)',
    ['sink'],
    () =>
      [...pipeline.sinkErrors].map(
        ([sink, n]) => [{ sink: sinkLabel(sink) }, n] as [{ sink: string }, number],
      ),
  );
  gaugeFrom(
    registry,
    'tickflow_aggregator_sinks_failing',
    'Sinks currently failing (consumption is paused while > 0)',
    [],
    () => [[{}, pipeline.failingSinks.size]],
  );
  gaugeFrom(
    registry,
    'tickflow_aggregator_sink_queue_depth_records',
    'Records handed to a sink and not yet confirmed (the batch being written)',
    ['sink'],
    () =>
      [...pipeline.sinkQueue].map(
        ([sink, n]) => [{ sink: sinkLabel(sink) }, n] as [{ sink: string }, number],
      ),
  );
  gaugeFrom(
    registry,
    'tickflow_aggregator_consumer_lag_messages',
    'High watermark minus position per assigned partition (librdkafka cached watermarks)',
    ['topic', 'partition'],
    () =>
      (src.consumer()?.lag() ?? []).map(
        (p) =>
          [{ topic: p.topic, partition: String(p.partition) }, p.lag] as [
            { topic: string; partition: string },
            number,
          ],
      ),
  );
  gaugeFrom(
    registry,
    'tickflow_aggregator_assigned_partitions',
    'Partitions this aggregator owns',
    [],
    () => [[{}, src.consumer()?.assignment.length ?? 0]],
  );

  const latency = (name: string, help: string) =>
    new PreaggregatedHistogram({
      name,
      help,
      buckets: LATENCY_BUCKETS_SECONDS,
      scale: 1e-6,
      registers: [registry],
    });
  const l = pipeline.latency;
  l.endToEnd.mirrorTo(
    latency(
      'tickflow_aggregator_end_to_end_latency_seconds',
      'Producer ingest to durably stored in PostgreSQL and Redis, per trade',
    ).child(),
  );
  l.toConsumer.mirrorTo(
    latency(
      'tickflow_aggregator_ingest_to_poll_seconds',
      'Producer ingest to polled by the aggregator, per trade',
    ).child(),
  );
  l.processing.mirrorTo(
    latency(
      'tickflow_aggregator_batch_processing_seconds',
      'Decode, validate and aggregate, per batch',
    ).child(),
  );
  l.sinkWrite.mirrorTo(
    latency(
      'tickflow_aggregator_batch_sink_write_seconds',
      'Durable sink writes of a batch (PostgreSQL, Redis, dead letters, concurrently), per batch',
    ).child(),
  );
  const sinkWrite = new Histogram({
    name: 'tickflow_aggregator_sink_write_seconds',
    help: 'One sink write of a batch, retries included',
    labelNames: ['sink'],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  const sinkBatch = new Histogram({
    name: 'tickflow_aggregator_sink_batch_size_records',
    help: 'Records per sink write (trades, latest prices, dead letters, bars, alerts)',
    labelNames: ['sink'],
    buckets: [...BATCH_SIZE_BUCKETS],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'tickflow_aggregator_batch_size_messages',
    help: 'Messages per polled batch',
    buckets: [...BATCH_SIZE_BUCKETS],
    registers: [registry],
  });
  // Series exist from the start, so dashboards and alerts see 0 rather than "no data".
  for (const n of SINK_NAMES) {
    sinkWrite.zero({ sink: sinkLabel(n) });
    sinkBatch.zero({ sink: sinkLabel(n) });
  }
  batchSize.zero({});
  return {
    registry,
    onBatch: (messages) => batchSize.observe(messages),
    onSinkWrite: (sink, records, seconds) => {
      const labels = { sink: sinkLabel(sink) };
      sinkWrite.observe(labels, seconds);
      sinkBatch.observe(labels, records);
    },
    render: () => registry.metrics(),
  };
}
