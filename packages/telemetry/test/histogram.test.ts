import { describe, expect, it } from 'vitest';
import { LatencyHistogram, RateMeter } from '../src/index.ts';

describe('LatencyHistogram', () => {
  it('reports percentiles in ms and resets the interval window only', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.recordUs(i * 10); // 10 µs .. 10 ms
    const s = h.interval();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(5, 1);
    expect(s.p99).toBeCloseTo(9.9, 1);
    expect(s.max).toBeCloseTo(10, 1);
    expect(h.interval().count).toBe(0);
    expect(h.summary().count).toBe(1000);
  });

  it('clamps non-positive latencies from clock skew to 1 µs', () => {
    const h = new LatencyHistogram();
    h.recordUs(-5);
    expect(h.summary().max).toBeCloseTo(0.001, 6);
  });
});

describe('RateMeter', () => {
  it('computes the rate over the last interval', () => {
    let t = 0;
    const m = new RateMeter(() => t);
    m.add(500);
    t = 500;
    expect(m.take()).toBe(1000);
    expect(m.total).toBe(500);
  });
});
