import { DLQ_REASONS } from '@tickflow/contracts';
import type { KafkaProducer } from '@tickflow/kafka';
import {
  counterFrom,
  createMetricsRegistry,
  gaugeFrom,
  LATENCY_BUCKETS_SECONDS,
  type LatencyHistogram,
  labelledCounterFrom,
  PreaggregatedHistogram,
  type Registry,
  type TracingStats,
} from '@tickflow/telemetry';
import { type FeedStats, renderFeedMetrics } from './feeds/stats.ts';

/** What the producer counts while it runs; plain numbers so the hot path only increments fields. */
export interface ProducerCounters {
  /** Invalid trades refused before sending, by validation reason. */
  rejected: Map<string, number>;
  /** Sends that found the window full and waited for acknowledgements, and the time spent waiting. */
  backpressureWaits: number;
  backpressureWaitMs: number;
  /** Deliveries that failed for good (after librdkafka's retries and our re-sends). */
  deliveryErrors: number;
}

export function createProducerCounters(): ProducerCounters {
  return {
    rejected: new Map(DLQ_REASONS.map((r) => [r, 0])),
    backpressureWaits: 0,
    backpressureWaitMs: 0,
    deliveryErrors: 0,
  };
}

export interface ProducerMetricsSources {
  producer: KafkaProducer;
  counters: ProducerCounters;
  deliveryLatency: LatencyHistogram;
  tracing: TracingStats;
  /** The live feed's stats, once one is open. */
  feed: () => FeedStats | undefined;
}

/**
 * The producer's /metrics: counters read from its state at scrape time, the delivery latency
 * histogram filled on the hot path through pre-aggregated buckets, plus Node runtime metrics and, for
 * live sources, the feed's metrics. Returns the text renderer for the health server.
 */
export function createProducerMetrics(src: ProducerMetricsSources): {
  registry: Registry;
  render: () => Promise<string>;
} {
  const registry = createMetricsRegistry();
  const p = src.producer;
  counterFrom(
    registry,
    'tickflow_producer_produced_total',
    'Trades acknowledged by the Kafka broker',
    () => p.stats.acked,
  );
  counterFrom(
    registry,
    'tickflow_producer_sent_total',
    'Trades handed to the Kafka client (acknowledged or not yet)',
    () => p.stats.sent,
  );
  counterFrom(
    registry,
    'tickflow_producer_delivery_errors_total',
    'Trades whose delivery failed for good after every retry',
    () => src.counters.deliveryErrors,
  );
  counterFrom(
    registry,
    'tickflow_producer_resends_total',
    'Trades re-sent after librdkafka gave up on a delivery',
    () => p.stats.resent,
  );
  labelledCounterFrom(
    registry,
    'tickflow_producer_rejected_total',
    'Invalid trades refused before sending, by reason',
    ['reason'],
    () => [...src.counters.rejected].map(([reason, n]) => [{ reason }, n] as [{ reason: string }, number]),
  );
  counterFrom(
    registry,
    'tickflow_producer_backpressure_waits_total',
    'Sends that waited because the window of unacknowledged trades was full',
    () => src.counters.backpressureWaits,
  );
  counterFrom(
    registry,
    'tickflow_producer_backpressure_wait_seconds_total',
    'Time spent waiting for room in the window',
    () => src.counters.backpressureWaitMs / 1000,
  );
  gaugeFrom(
    registry,
    'tickflow_producer_in_flight_messages',
    'Trades sent and not yet acknowledged',
    [],
    () => [[{}, p.inFlight]],
  );
  counterFrom(
    registry,
    'tickflow_producer_trace_spans_exported_total',
    'Spans delivered to the OTLP endpoint',
    () => src.tracing.exportedSpans,
  );
  counterFrom(
    registry,
    'tickflow_producer_trace_export_failures_total',
    'OTLP export calls that failed (their spans are lost)',
    () => src.tracing.failedExports,
  );
  const delivery = new PreaggregatedHistogram({
    name: 'tickflow_producer_delivery_latency_seconds',
    help: 'Send to broker acknowledgement, per trade',
    buckets: LATENCY_BUCKETS_SECONDS,
    scale: 1e-6,
    registers: [registry],
  });
  src.deliveryLatency.mirrorTo(delivery.child());
  return {
    registry,
    render: async () => {
      const feed = src.feed();
      return (await registry.metrics()) + (feed ? renderFeedMetrics(feed) : '');
    },
  };
}
