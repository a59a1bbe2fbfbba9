/** Default Kafka topic names of the contract; every one is overridable by configuration. */
export const DEFAULT_TOPICS = {
  rawMarketData: 'raw-market-data',
  aggregatedMetrics: 'aggregated-metrics',
  priceAlerts: 'price-alerts',
  deadLetterQueue: 'dead-letter-queue',
} as const;

export type TopicRole = keyof typeof DEFAULT_TOPICS;

/** Consumer group shared by every aggregator instance, so partitions are split between them. */
export const AGGREGATOR_GROUP = 'tickflow-aggregators';

/** Headers on a dead-letter record; the value and key are the original bytes, untouched. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  error: 'x-dlq-error',
} as const;

/** W3C trace-context headers, injected and extracted by hand (no OTel instrumentation exists for the Kafka client). */
export const TRACE_HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;
