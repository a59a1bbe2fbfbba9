import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { BucketCounts } from './metrics.ts';

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * HDR latency histogram over node:perf_hooks (~20 ns a record, vs ~300-500 ns for prom-client's
 * observe). Values are recorded in microseconds; summaries are reported in milliseconds.
 * `interval()` returns the window since the previous call and resets it, while `total` keeps
 * accumulating for end-of-run reports.
 */
export class LatencyHistogram {
  #window: RecordableHistogram = createHistogram();
  readonly total: RecordableHistogram = createHistogram();
  #mirror: BucketCounts | undefined;

  /** Records one latency in µs; values < 1 µs (clock skew between processes) count as 1 µs. */
  recordUs(us: number): void {
    const v = us >= 1 ? Math.round(us) : 1;
    this.#window.record(v);
    this.total.record(v);
    if (this.#mirror) this.#mirror.record(v);
  }

  /**
   * Also records every value (µs) into pre-aggregated Prometheus buckets, so /metrics publishes the
   * same distribution the stats lines report without a second pass over the data.
   */
  mirrorTo(buckets: BucketCounts): this {
    this.#mirror = buckets;
    return this;
  }

  /** Records `n` equal latencies at once (one batch stored at one instant). */
  recordManyUs(us: number, n: number): void {
    for (let i = 0; i < n; i++) this.recordUs(us);
  }

  interval(): LatencySummary {
    const s = summarize(this.#window);
    this.#window.reset();
    return s;
  }

  summary(): LatencySummary {
    return summarize(this.total);
  }

  /** Forgets the run so far (e.g. after a benchmark's warm-up), keeping the interval window. */
  resetTotal(): void {
    this.total.reset();
  }
}

export function summarize(h: RecordableHistogram): LatencySummary {
  if (h.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const ms = (us: number) => us / 1000;
  return {
    count: h.count,
    mean: ms(h.mean),
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
  };
}
