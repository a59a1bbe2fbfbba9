import type { KafkaProducer } from '@tickflow/kafka';
import { LatencyHistogram } from '@tickflow/telemetry';
import { describe, expect, it } from 'vitest';
import { appOf, p99Ms, parseExposition, throughputCounter } from '../../dashboard/src/prom.ts';
import { createFeedStats } from '../src/feeds/stats.ts';
import { createProducerCounters, createProducerMetrics } from '../src/metrics.ts';

describe('producer /metrics', () => {
  it('publishes delivery counters, latency, back-pressure and the live feed, as the dashboard app reads them', async () => {
    const producer = { stats: { sent: 0, acked: 0, failed: 0, resent: 0 }, inFlight: 0 };
    const counters = createProducerCounters();
    const deliveryLatency = new LatencyHistogram();
    const feed = createFeedStats('binance');
    let withFeed = false;
    const m = createProducerMetrics({
      producer: producer as unknown as KafkaProducer,
      counters,
      deliveryLatency,
      tracing: { exportedSpans: 12, failedExports: 0 },
      feed: () => (withFeed ? feed : undefined),
    });
    const first = parseExposition(await m.render());
    producer.stats = { sent: 120, acked: 100, failed: 1, resent: 2 };
    producer.inFlight = 19;
    counters.deliveryErrors = 1;
    counters.backpressureWaits = 3;
    counters.backpressureWaitMs = 1500;
    counters.rejected.set('invalid-price', 2);
    for (let i = 0; i < 100; i++) deliveryLatency.recordUs(i < 98 ? 2000 : 40_000);
    withFeed = true;
    const text = await m.render();
    const get = (line: string) => text.split('\n').find((l) => l.startsWith(line));
    expect(get('tickflow_producer_produced_total ')).toBe('tickflow_producer_produced_total 100');
    expect(get('tickflow_producer_sent_total ')).toBe('tickflow_producer_sent_total 120');
    expect(get('tickflow_producer_delivery_errors_total ')).toBe('tickflow_producer_delivery_errors_total 1');
    expect(get('tickflow_producer_resends_total ')).toBe('tickflow_producer_resends_total 2');
    expect(get('tickflow_producer_rejected_total{reason="invalid-price"}')).toMatch(/ 2$/);
    expect(get('tickflow_producer_rejected_total{reason="invalid-size"}')).toMatch(/ 0$/);
    expect(get('tickflow_producer_backpressure_waits_total ')).toMatch(/ 3$/);
    expect(get('tickflow_producer_backpressure_wait_seconds_total ')).toMatch(/ 1.5$/);
    expect(get('tickflow_producer_in_flight_messages ')).toMatch(/ 19$/);
    expect(get('tickflow_producer_trace_spans_exported_total ')).toMatch(/ 12$/);
    expect(get('tickflow_producer_delivery_latency_seconds_count ')).toMatch(/ 100$/);
    expect(get('tickflow_producer_delivery_latency_seconds_bucket{le="0.002"}')).toMatch(/ 98$/);
    expect(get('tickflow_feed_trades_total{source="binance"}')).toMatch(/ 0$/);
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');

    const cur = parseExposition(text);
    expect(appOf(cur)).toBe('producer');
    expect(throughputCounter(cur)).toBe('tickflow_producer_produced_total');
    // The delivery latency, not the runtime's GC durations, is the producer's p99.
    expect(p99Ms(cur, first)).toBeGreaterThan(2);
    expect(p99Ms(cur, first)).toBeLessThanOrEqual(50);
    const gc = [
      'nodejs_gc_duration_seconds_bucket{le="1",kind="major"} 1',
      'nodejs_gc_duration_seconds_bucket{le="+Inf",kind="major"} 1',
    ];
    expect(p99Ms(parseExposition(`${gc.join('\n')}\n${text}`))).toBeLessThanOrEqual(50);
  });
});
