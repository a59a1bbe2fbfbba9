import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { encodeTrade, type Trade } from '@tickflow/contracts';
import type { BatchConsumer, ConsumedMessage } from '@tickflow/kafka';
import { tradeKey } from '@tickflow/storage';
import type { Tracing } from '@tickflow/telemetry';
import { describe, expect, it } from 'vitest';
import { TickflowSampler } from '../../../packages/telemetry/src/sampler.ts';
import { tracingConfigFromEnv } from '../../../packages/telemetry/src/tracing-config.ts';
import { appOf, lagOf, p99Ms, parseExposition, throughputCounter } from '../../dashboard/src/prom.ts';
import { MarketAggregator } from '../src/core/index.ts';
import { type AggregatorMetrics, createAggregatorMetrics } from '../src/metrics.ts';
import { BatchPipeline, type Sinks } from '../src/pipeline.ts';
import { KafkaBatchTracer } from '../src/tracing.ts';

const T0 = 1_767_623_400_000_000;
const trade = (i: number): Trade => ({
  symbol: i % 2 ? 'AAPL' : 'MSFT',
  price: 100 + i,
  size: 1,
  eventTimeUs: T0 + i * 1000,
  ingestTimeUs: T0 + i * 1000,
  source: 'replay',
  tradeId: String(i),
});
const traceId = (i: number) => i.toString(16).padStart(32, '0');
const spanId = (i: number) => i.toString(16).padStart(16, '0');
let offset = 0;
const msg = (i: number, sampled: boolean | undefined, value?: Buffer): ConsumedMessage => ({
  topic: 'raw',
  partition: i % 3,
  offset: offset++,
  key: Buffer.from('k'),
  value: value ?? Buffer.from(encodeTrade(trade(i))),
  headers:
    sampled === undefined
      ? undefined
      : [{ traceparent: `00-${traceId(i + 1)}-${spanId(i + 1)}-0${sampled ? 1 : 0}` }],
  timestamp: 0,
});

class FlakySinks implements Sinks {
  readonly stored = new Set<string>();
  redisFailures = 0;
  async storeTrades(trades: readonly Trade[], fresh: Uint8Array) {
    for (const [i, t] of trades.entries()) {
      const k = tradeKey(t.source, t.symbol, t.tradeId);
      if (!this.stored.has(k)) {
        this.stored.add(k);
        fresh[i] = 1;
      }
    }
  }
  async writeLatest() {
    if (this.redisFailures > 0) {
      this.redisFailures--;
      throw new Error('redis down');
    }
  }
  async storeAlerts() {}
  async publishAlerts() {}
  async writeBars() {}
  async writeAlerts() {}
  async writeDeadLetters() {}
}

const core = () =>
  new MarketAggregator({
    intervals: [{ name: '1s', lengthUs: 1_000_000 }],
    allowedLatenessUs: 0,
    alertWindowUs: 60_000_000,
    alertThresholdPct: 50,
  });

function testTracing(ratio: number, linkLimit: number) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: new TickflowSampler(ratio),
    spanLimits: { linkCountLimit: linkLimit },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const config = {
    ...tracingConfigFromEnv(
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SPAN_LINK_COUNT_LIMIT: String(linkLimit) },
      'agg',
    ),
    ratio,
  };
  const tracing: Tracing = {
    enabled: true,
    config,
    tracer: provider.getTracer('test'),
    stats: { exportedSpans: 0, failedExports: 0 },
    sampleMessage: () => true,
    shutdown: async () => undefined,
  };
  const tracer = new KafkaBatchTracer(tracing, {
    inputTopic: 'raw',
    group: 'g',
    clientId: 'c',
    outputs: { bars: 'bars', alerts: 'alerts', deadLetters: 'dlq' },
  });
  return { exporter, tracer };
}

describe('batch tracing', () => {
  it('links every traced message from the batch span, spreading links beyond the cap over child spans', async () => {
    const { exporter, tracer } = testTracing(0, 3);
    const sinks = new FlakySinks();
    sinks.redisFailures = 1;
    const p = new BatchPipeline(core(), sinks, { maxMessageBytes: 4096, tracer, nowUs: () => T0 + 5000 });
    const bad = msg(99, true, Buffer.from([0xff, 0xff]));
    await p.process([...Array.from({ length: 7 }, (_, i) => msg(i, true)), msg(7, undefined), bad]);
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.name === 'process raw' && !s.parentSpanContext);
    expect(batch?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'raw',
      'messaging.consumer.group.name': 'g',
      'messaging.batch.message_count': 9,
      'tickflow.batch.linked_messages': 8,
      'tickflow.trades.stored': 8,
      'tickflow.trades.fresh': 8,
      'tickflow.dead_letters': 1,
    });
    const linkers = spans.filter((s) => s.name === 'process raw');
    expect(linkers.map((s) => s.links.length)).toEqual(expect.arrayContaining([3, 3, 2]));
    const linked = linkers.flatMap((s) => s.links.map((l) => l.context.spanId)).sort();
    expect(linked).toEqual([...Array.from({ length: 7 }, (_, i) => spanId(i + 1)), spanId(100)].sort());
    for (const s of linkers.filter((x) => x !== batch))
      expect(s.parentSpanContext?.spanId).toBe(batch?.spanContext().spanId);
    const link = batch?.links[0];
    expect(link?.attributes).toHaveProperty('messaging.destination.partition.id');
    expect(link?.attributes).toHaveProperty('messaging.kafka.offset');

    const children = spans.filter((s) => s.parentSpanContext?.spanId === batch?.spanContext().spanId);
    const byName = new Map(children.map((s) => [s.name, s]));
    expect(byName.get('INSERT trades')?.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.operation.batch.size': 8,
      'tickflow.sink.attempts': 1,
    });
    const redis = byName.get('EVALSHA latest');
    expect(redis?.attributes).toMatchObject({ 'db.system.name': 'redis', 'tickflow.sink.attempts': 2 });
    expect(redis?.events.map((e) => e.name)).toEqual(['retry']);
    const dlq = byName.get('send dlq');
    expect(dlq?.attributes).toMatchObject({
      'messaging.destination.name': 'dlq',
      'messaging.batch.message_count': 1,
    });
    expect(dlq?.links.map((l) => l.context.spanId)).toEqual([spanId(100)]);
    for (const s of spans) expect(s.spanContext().traceId).toBe(batch?.spanContext().traceId);
  });

  it('records nothing for a batch without sampled messages when the ratio says no', async () => {
    const { exporter, tracer } = testTracing(0, 8);
    const p = new BatchPipeline(core(), new FlakySinks(), { maxMessageBytes: 4096, tracer });
    expect(tracer.startBatch([msg(1, false), msg(2, undefined)])).toBeUndefined();
    await p.process([msg(3, false), msg(4, undefined)]);
    await p.process([]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('aggregator /metrics', () => {
  it("publishes the pipeline's counters, histograms, lag and back-pressure, as the dashboard app reads them", async () => {
    const sinks = new FlakySinks();
    const now = T0 + 2000;
    // As in app.ts: the pipeline reports to the metrics, which read the pipeline.
    let m: AggregatorMetrics | undefined;
    const p = new BatchPipeline(core(), sinks, {
      maxMessageBytes: 4096,
      nowUs: () => now,
      onBatch: (n) => m?.onBatch(n),
      onSinkWrite: (sink, records, seconds) => m?.onSinkWrite(sink, records, seconds),
    });
    const consumer = {
      lag: () => [
        { topic: 'raw', partition: 0, lag: 5 },
        { topic: 'raw', partition: 1, lag: 7 },
      ],
      assignment: [
        { topic: 'raw', partition: 0 },
        { topic: 'raw', partition: 1 },
      ],
    } as unknown as BatchConsumer;
    m = createAggregatorMetrics({
      pipeline: p,
      consumer: () => consumer,
      errors: { commitFailures: 1, kafkaClientErrors: 0 },
      tracing: { exportedSpans: 0, failedExports: 0 },
    });
    const first = parseExposition(await m.render());
    sinks.redisFailures = 1;
    await p.process([msg(1, undefined), msg(2, undefined), msg(3, undefined, Buffer.from([0xff]))]);
    await p.process([msg(1, undefined)]);
    const text = await m.render();
    const get = (line: string) => text.split('\n').find((l) => l.startsWith(line));
    expect(get('tickflow_aggregator_consumed_total ')).toBe('tickflow_aggregator_consumed_total 4');
    expect(get('tickflow_aggregator_stored_total ')).toBe('tickflow_aggregator_stored_total 3');
    expect(get('tickflow_aggregator_duplicates_total ')).toBe('tickflow_aggregator_duplicates_total 1');
    expect(get('tickflow_aggregator_commit_failures_total ')).toBe(
      'tickflow_aggregator_commit_failures_total 1',
    );
    expect(get('tickflow_aggregator_dead_letters_total{reason="malformed-protobuf"}')).toMatch(/ 1$/);
    expect(get('tickflow_aggregator_dead_letters_total{reason="oversized"}')).toMatch(/ 0$/);
    expect(get('tickflow_aggregator_sink_errors_total{sink="redis_latest"}')).toMatch(/ 1$/);
    expect(get('tickflow_aggregator_backpressure_pauses_total ')).toMatch(/ 1$/);
    expect(get('tickflow_aggregator_consumer_lag_messages{topic="raw",partition="1"}')).toMatch(/ 7$/);
    expect(get('tickflow_aggregator_assigned_partitions ')).toMatch(/ 2$/);
    expect(get('tickflow_aggregator_end_to_end_latency_seconds_count ')).toMatch(/ 3$/);
    expect(get('tickflow_aggregator_batch_size_messages_count ')).toMatch(/ 2$/);
    expect(get('tickflow_aggregator_batch_size_messages_sum ')).toMatch(/ 4$/);
    expect(get('tickflow_aggregator_sink_write_seconds_count{sink="postgres_trades"}')).toMatch(/ 2$/);
    expect(get('tickflow_aggregator_sink_write_seconds_count{sink="redis_alerts"}')).toMatch(/ 0$/);
    expect(get('tickflow_aggregator_sink_batch_size_records_sum{sink="postgres_trades"}')).toMatch(/ 3$/);
    expect(get('tickflow_aggregator_sink_queue_depth_records{sink="postgres_trades"}')).toMatch(/ 0$/);
    expect(get('tickflow_aggregator_sinks_failing ')).toMatch(/ 0$/);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');

    // What the web dashboard's health panel derives from it.
    const cur = parseExposition(text);
    expect(appOf(cur)).toBe('aggregator');
    expect(throughputCounter(cur)).toBe('tickflow_aggregator_stored_total');
    expect(lagOf(cur)).toBe(12);
    // Trades ingested at T0+1000..3000 µs, stored at T0+2000: the p99 comes from the e2e histogram.
    const p99 = p99Ms(cur, first);
    expect(p99).not.toBeNull();
    expect(p99 as number).toBeLessThanOrEqual(1);
  });
});
