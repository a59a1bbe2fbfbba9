import { z } from 'zod';

/** Latency summary in milliseconds, as the apps' HDR histograms report it. */
export const latencySchema = z.object({
  count: z.number().int().nonnegative(),
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
});
export type Latency = z.infer<typeof latencySchema>;

/** A stage nothing was recorded for (e.g. a child that printed no summary). */
export const EMPTY_LATENCY: Latency = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

const processUse = z.object({ cpuCores: z.number().nonnegative(), peakRssMiB: z.number().nonnegative() });

export const maxThroughputSchema = z.object({
  name: z.literal('max-throughput'),
  steadySeconds: z.number().positive(),
  storedPerSec: z.number().nonnegative(),
  producedPerSec: z.number().nonnegative(),
  endToEnd: latencySchema,
  processes: z.record(z.string(), processUse),
});

export const fixedRateSchema = z.object({
  name: z.literal('fixed-rate'),
  requestedPerSec: z.number().positive(),
  producedPerSec: z.number().nonnegative(),
  storedPerSec: z.number().nonnegative(),
  endToEnd: latencySchema,
  split: z.object({
    /** ingest -> the record's broker append time (whole ms; the bench's topics are LogAppendTime). */
    producerToBroker: latencySchema,
    /** broker append time -> polled by the aggregator. */
    brokerToAggregator: latencySchema,
    processing: latencySchema,
    sinkWrite: latencySchema,
  }),
  /** CPU and peak RSS of each process over the measured window (absent in results of older releases). */
  processes: z.record(z.string(), processUse).optional(),
  /** Linux CPU pressure over the measured window: % of wall time some runnable task waited for a core. */
  cpuPressurePct: z.number().min(0).max(100).optional(),
});

/** Latency as kafka-producer-perf-test reports it: ms, whole ms for the percentiles, p95 instead of p90. */
export const perfToolLatencySchema = z.object({
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p95: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
});
export type PerfToolLatency = z.infer<typeof perfToolLatencySchema>;

/** Kafka's own producer at the same rate, alone: send -> ack (scenarios/kafka-producer-latency.ts). */
export const kafkaProducerLatencySchema = z.object({
  seconds: z.number().positive(),
  lingerMs: z.number().nonnegative(),
  ack: perfToolLatencySchema,
  cpuPressurePct: z.number().min(0).max(100).optional(),
});
export type KafkaProducerLatency = z.infer<typeof kafkaProducerLatencySchema>;

/** The fixed-rate producer into a bare consumer with no sinks, then lone batch writes: the least latency possible. */
export const transportFloorSchema = z.object({
  name: z.literal('transport-floor'),
  requestedPerSec: z.number().positive(),
  producedPerSec: z.number().nonnegative(),
  /** ingest -> the record's broker append time, as in the fixed-rate split. */
  producerToBroker: latencySchema,
  ingestToPolled: latencySchema,
  /** Durable writes of one polled batch's worth of trades, one at a time, with nothing else running. */
  commit: z
    .object({
      batchRows: z.number().int().positive(),
      writes: z.number().int().positive(),
      latency: latencySchema,
    })
    .optional(),
  /** Linux CPU pressure while the producer ran after the warm-up (see fixedRateSchema). */
  cpuPressurePct: z.number().min(0).max(100).optional(),
  /** Kafka's own producer at the same rate with nothing else running (absent in older results). */
  kafkaProducer: kafkaProducerLatencySchema.optional(),
});

export const kafkaLimitSchema = z.object({
  name: z.literal('kafka-limit'),
  records: z.number().int().positive(),
  recordBytes: z.number().int().positive(),
  partitions: z.number().int().positive(),
  producerPerfPerSec: z.number().nonnegative(),
  consumerPerfPerSec: z.number().nonnegative(),
  tickflowPerSec: z.number().nonnegative(),
  tickflowShareOfConsume: z.number().nonnegative().nullable(),
});

export const scaleOutSchema = z.object({
  name: z.literal('scale-out'),
  oneAggregatorPerSec: z.number().nonnegative(),
  twoAggregatorsPerSec: z.number().nonnegative(),
  speedup: z.number().nonnegative().nullable(),
});

export const soakSchema = z.object({
  name: z.literal('soak'),
  requestedPerSec: z.number().positive(),
  minutes: z.number().positive(),
  /** One per 10 s: aggregator RSS at its end; end-to-end p99 and mean over those 10 s. */
  samples: z.array(
    z.object({
      t: z.number(),
      rssMiB: z.number(),
      p99Ms: z.number(),
      // absent in results written before it was recorded
      meanMs: z.number().optional(),
      storedPerSec: z.number(),
    }),
  ),
  rssGrowthAfterFirstMinute: z.number(),
});
export type SoakResult = z.infer<typeof soakSchema>;

/** The fixed-rate run once per tracing level (off, 1 %, 100 %): what tracing costs. */
export const tracingSchema = z.object({
  name: z.literal('tracing'),
  requestedPerSec: z.number().positive(),
  runs: z.array(
    z.object({
      level: z.string(),
      /** Sampling ratio; null with tracing off. */
      ratio: z.number().min(0).max(1).nullable(),
      producedPerSec: z.number().nonnegative(),
      storedPerSec: z.number().nonnegative(),
      endToEnd: latencySchema,
      /** OTLP export requests and bytes the local endpoint received during the run. */
      exportRequests: z.number().int().nonnegative(),
      exportBytes: z.number().int().nonnegative(),
    }),
  ),
});

export const scenarioSchema = z.discriminatedUnion('name', [
  maxThroughputSchema,
  fixedRateSchema,
  transportFloorSchema,
  kafkaLimitSchema,
  scaleOutSchema,
  soakSchema,
  tracingSchema,
]);
export type ScenarioResult = z.infer<typeof scenarioSchema>;

export const benchResultSchema = z.object({
  schema: z.literal('tickflow.bench/v1'),
  startedAt: z.string(),
  command: z.string(),
  /** Node/V8 flags of the aggregator processes (absent in results written before it was recorded). */
  aggregatorNodeArgs: z.array(z.string()).optional(),
  quick: z.boolean(),
  machine: z.object({
    cpu: z.string(),
    cores: z.number().int().positive(),
    memoryGiB: z.number().positive(),
    node: z.string(),
    kafka: z.string(),
    postgres: z.string(),
    redis: z.string(),
    os: z.string(),
  }),
  scenarios: z.array(scenarioSchema),
  targets: z.array(z.object({ target: z.string(), value: z.string(), met: z.boolean().nullable() })),
});
export type BenchResult = z.infer<typeof benchResultSchema>;
