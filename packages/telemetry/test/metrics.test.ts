import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/histogram.ts';
import {
  BucketCounts,
  counterFrom,
  createMetricsRegistry,
  gaugeFrom,
  LATENCY_BUCKETS_SECONDS,
  labelledCounterFrom,
  PreaggregatedHistogram,
  Registry,
} from '../src/metrics.ts';

const lines = async (r: Registry, prefix: string) =>
  (await r.metrics()).split('\n').filter((l) => l.startsWith(prefix));

describe('BucketCounts', () => {
  it('counts each value in the first bucket whose upper bound is >= the value (le semantics)', () => {
    const b = new BucketCounts(Float64Array.from([10, 20, 50]));
    for (const v of [0, 10, 10.5, 20, 49, 50, 51, 1e9]) b.record(v);
    expect([...b.counts]).toEqual([2, 2, 2, 2]);
    expect(b.count).toBe(8);
    expect(b.sum).toBeCloseTo(0 + 10 + 10.5 + 20 + 49 + 50 + 51 + 1e9);
    b.recordMany(15, 3);
    b.recordMany(15, 0);
    expect([...b.counts]).toEqual([2, 5, 2, 2]);
    expect(b.count).toBe(11);
  });

  it('agrees with a linear scan on random values', () => {
    const bounds = Float64Array.from(LATENCY_BUCKETS_SECONDS, (s) => s * 1e6);
    const b = new BucketCounts(bounds);
    const expected = new Array(bounds.length + 1).fill(0);
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 16807) % 2147483647;
      const v = (seed / 2147483647) * 40e6;
      b.record(v);
      let j = 0;
      while (j < bounds.length && v > (bounds[j] as number)) j++;
      expected[j]++;
    }
    expect([...b.counts]).toEqual(expected);
  });
});

describe('PreaggregatedHistogram', () => {
  it('publishes cumulative buckets, sum and count in seconds from µs recorded through LatencyHistogram', async () => {
    const r = new Registry();
    const h = new PreaggregatedHistogram({
      name: 'x_latency_seconds',
      help: 'test',
      buckets: [0.001, 0.01],
      scale: 1e-6,
      registers: [r],
    });
    const l = new LatencyHistogram().mirrorTo(h.child());
    for (const us of [500, 5000, 50_000, 0.2]) l.recordUs(us);
    expect(await lines(r, 'x_latency_seconds')).toEqual([
      'x_latency_seconds_bucket{le="0.001"} 2',
      'x_latency_seconds_bucket{le="0.01"} 3',
      'x_latency_seconds_bucket{le="+Inf"} 4',
      // 0.2 µs counts as 1 µs, as in the HDR histogram.
      'x_latency_seconds_sum 0.055501',
      'x_latency_seconds_count 4',
    ]);
    expect(l.summary().count).toBe(4);
    const json = (await r.getMetricsAsJSON())[0];
    expect(json?.type).toBe('histogram');
    expect(json?.values.at(-1)).toMatchObject({ metricName: 'x_latency_seconds_count', value: 4 });
    expect(() => h.observe(1)).toThrow(/child/);
  });

  it('keeps one series set per label set', async () => {
    const r = new Registry();
    const h = new PreaggregatedHistogram({
      name: 'y_seconds',
      help: 'test',
      labelNames: ['stage'],
      buckets: [1],
      scale: 1,
      registers: [r],
    });
    h.child({ stage: 'a' }).record(0.5);
    h.child({ stage: 'b' }).record(2);
    expect(h.child({ stage: 'a' })).toBe(h.child({ stage: 'a' }));
    expect(await lines(r, 'y_seconds_count')).toEqual([
      'y_seconds_count{stage="a"} 1',
      'y_seconds_count{stage="b"} 1',
    ]);
  });
});

describe('counters and gauges read at scrape time', () => {
  it('follow application state without hot-path work, never going backwards', async () => {
    const r = new Registry();
    const state = { n: 3, byReason: new Map([['x', 1]]), lag: [2, 5] };
    counterFrom(r, 'app_things_total', 'things', () => state.n);
    labelledCounterFrom(r, 'app_reasons_total', 'reasons', ['reason'], () =>
      [...state.byReason].map(([reason, v]) => [{ reason }, v] as [{ reason: string }, number]),
    );
    gaugeFrom(r, 'app_lag', 'lag', ['partition'], () =>
      state.lag.map((v, i) => [{ partition: String(i) }, v] as [{ partition: string }, number]),
    );
    expect(await lines(r, 'app_')).toEqual([
      'app_things_total 3',
      'app_reasons_total{reason="x"} 1',
      'app_lag{partition="0"} 2',
      'app_lag{partition="1"} 5',
    ]);
    state.n = 10;
    state.byReason.set('x', 4).set('y', 0);
    state.lag = [0];
    expect(await lines(r, 'app_')).toEqual([
      'app_things_total 10',
      'app_reasons_total{reason="x"} 4',
      'app_reasons_total{reason="y"} 0',
      'app_lag{partition="0"} 0',
    ]);
    state.n = 2; // a reset of the source must not make the counter go down
    expect(await lines(r, 'app_things_total')).toEqual(['app_things_total 10']);
  });

  it('registers the Node runtime metrics', async () => {
    const text = await createMetricsRegistry().metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });
});
