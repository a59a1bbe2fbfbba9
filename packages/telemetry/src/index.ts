export type { Attributes, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';
export {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace as otelTrace,
} from '@opentelemetry/api';
export type {
  CommandEntryPoint,
  ServiceContext,
  ServiceEntryPoint,
  TracedServiceEntryPoint,
} from './entry-point.ts';
export { runEntryPoint } from './entry-point.ts';
export { formatCount, formatMs } from './format.ts';
export type { HealthServer, HealthServerOptions } from './health.ts';
export { startHealthServer } from './health.ts';
export type { LatencySummary } from './histogram.ts';
export { LatencyHistogram } from './histogram.ts';
export type { Logger } from './logger.ts';
export { createLogger } from './logger.ts';
export type { PreaggregatedHistogramOptions } from './metrics.ts';
export {
  BATCH_SIZE_BUCKETS,
  BucketCounts,
  Counter,
  counterFrom,
  createMetricsRegistry,
  Gauge,
  gaugeFrom,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  labelledCounterFrom,
  PreaggregatedHistogram,
  Registry,
} from './metrics.ts';
export { RateMeter } from './rate.ts';
export { ATTR, KAFKA } from './semconv.ts';
export type { ShutdownSignal } from './shutdown.ts';
export { onShutdown } from './shutdown.ts';
export type { HeaderList } from './trace-context.ts';
export {
  activeTraceHeaders,
  extractTraceContext,
  formatTraceparent,
  PRESAMPLED_CONTEXT,
  parseTraceparent,
  TRACEPARENT,
  TRACESTATE,
  traceHeaders,
} from './trace-context.ts';
export type { StartTracingOptions, Tracing, TracingStats } from './tracing.ts';
export { startTracing } from './tracing.ts';
export type { TracingConfig } from './tracing-config.ts';
export { TracingConfigError, tracingConfigFromEnv } from './tracing-config.ts';
