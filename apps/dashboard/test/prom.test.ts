import { describe, expect, it } from 'vitest';
import { summarize } from '../src/live/pipeline-health.ts';
import {
  appOf,
  counterRate,
  histogramQuantile,
  lagOf,
  p99Ms,
  parseExposition,
  throughputCounter,
  toMsFactor,
} from '../src/prom.ts';

const AGGREGATOR = `# HELP tickflow_aggregator_consumed_total Messages polled from the trades topic
# TYPE tickflow_aggregator_consumed_total counter
tickflow_aggregator_consumed_total 1000
# HELP tickflow_aggregator_stored_total Valid trades written to every sink
# TYPE tickflow_aggregator_stored_total counter
tickflow_aggregator_stored_total 990
tickflow_aggregator_alerts_total 3
`;

describe('parseExposition', () => {
  it('reads names, labels (with escapes), values and types, and skips junk', () => {
    const e = parseExposition(`# TYPE x gauge
x{a="1",b="q\\"uote",c="comma,inside"} 2.5 1700000000000
y +Inf
z NaN
not a sample line
w{broken="} 1
v 12e3
`);
    expect(e.types.get('x')).toBe('gauge');
    expect(e.samples).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"uote', c: 'comma,inside' }, value: 2.5 },
      { name: 'y', labels: {}, value: Number.POSITIVE_INFINITY },
      { name: 'z', labels: {}, value: Number.NaN },
      { name: 'v', labels: {}, value: 12000 },
    ]);
  });

  it('names the app and its throughput counter', () => {
    const e = parseExposition(AGGREGATOR);
    expect(appOf(e)).toBe('aggregator');
    expect(throughputCounter(e)).toBe('tickflow_aggregator_stored_total');
    expect(
      throughputCounter(parseExposition('tickflow_producer_acked_total 5\ntickflow_producer_sent_total 6')),
    ).toBe('tickflow_producer_acked_total');
    expect(throughputCounter(parseExposition('other_total 1'))).toBeNull();
  });
});

describe('derived figures', () => {
  it('rates a counter between scrapes and gives up after a reset', () => {
    const a = parseExposition('tickflow_aggregator_stored_total 1000');
    const b = parseExposition('tickflow_aggregator_stored_total 3000');
    expect(counterRate(a, b, 'tickflow_aggregator_stored_total', 2000)).toBe(1000);
    expect(counterRate(b, a, 'tickflow_aggregator_stored_total', 2000)).toBeNull();
    expect(counterRate(a, b, 'missing_total', 2000)).toBeNull();
  });

  it('reads p99 from a summary, preferring end-to-end latency, in ms', () => {
    const e = parseExposition(`tickflow_aggregator_sink_latency_seconds{quantile="0.99"} 0.5
tickflow_aggregator_e2e_latency_seconds{quantile="0.5"} 0.004
tickflow_aggregator_e2e_latency_seconds{quantile="0.99"} 0.012`);
    expect(p99Ms(e)).toBeCloseTo(12, 9);
  });

  it('computes p99 from histogram buckets, over the scrape window when there is a previous scrape', () => {
    const h = (n1: number, n2: number, n3: number) =>
      parseExposition(`tickflow_aggregator_e2e_latency_ms_bucket{le="1"} ${n1}
tickflow_aggregator_e2e_latency_ms_bucket{le="10"} ${n2}
tickflow_aggregator_e2e_latency_ms_bucket{le="+Inf"} ${n3}
tickflow_aggregator_e2e_latency_ms_count ${n3}`);
    // Since start: 99 % of 100 = rank 99 falls in (1, 10]: 1 + 9 * (99 - 90) / (100 - 90).
    expect(p99Ms(h(90, 100, 100))).toBeCloseTo(9.1, 9);
    // Window: 100 new observations, all <= 1 ms.
    expect(p99Ms(h(190, 200, 200), h(90, 100, 100))).toBeCloseTo(0.99, 9);
    expect(histogramQuantile(0.99, [])).toBeNull();
    expect(histogramQuantile(0.5, [[Number.POSITIVE_INFINITY, 10]])).toBe(0);
  });

  it('reads a p99 gauge and converts units', () => {
    expect(p99Ms(parseExposition('tickflow_producer_delivery_latency_p99_us 2500'))).toBeCloseTo(2.5, 9);
    expect(toMsFactor('x_seconds')).toBe(1000);
    expect(toMsFactor('x_milliseconds')).toBe(1);
    expect(toMsFactor('x_ms_bucket')).toBe(1);
    expect(p99Ms(parseExposition(AGGREGATOR))).toBeNull();
  });

  it('sums consumer lag over partitions', () => {
    const e = parseExposition(`tickflow_aggregator_consumer_lag{partition="0"} 5
tickflow_aggregator_consumer_lag{partition="1"} 7
tickflow_aggregator_lag_bytes 100`);
    expect(lagOf(e)).toBe(12);
    expect(lagOf(parseExposition(AGGREGATOR))).toBeNull();
  });

  it('summarizes targets: aggregator throughput, worst p99, total lag; down targets ignored', () => {
    const t = (
      app: string | null,
      up: boolean,
      tp: number | null,
      p99: number | null,
      lag: number | null,
    ) => ({
      url: `http://${app}`,
      app,
      up,
      error: up ? null : 'ECONNREFUSED',
      scraped_at_us: up ? 1 : null,
      throughput_per_s: tp,
      throughput_metric: null,
      p99_ms: p99,
      lag,
    });
    const h = summarize(
      [
        t('aggregator', true, 100, 5, 10),
        t('aggregator', true, 50, 9, 1),
        t('producer', true, 400, 2, null),
        t(null, false, null, null, null),
      ],
      123,
    );
    expect(h.throughput_per_s).toBe(150);
    expect(h.p99_ms).toBe(9);
    expect(h.lag).toBe(11);
    expect(h.newest_event_us).toBe(123);
    expect(summarize([], null)).toEqual({
      targets: [],
      throughput_per_s: null,
      p99_ms: null,
      lag: null,
      newest_event_us: null,
    });
  });
});
