/** Pure figures over samples; no I/O so the harness maths is unit-tested on its own. */

export interface RateSample {
  /** Seconds since the scenario started. */
  t: number;
  /** Events per second over the interval ending at t. */
  rate: number;
}

/** Samples whose time falls in [from, to). */
export function window<T extends { t: number }>(samples: readonly T[], from: number, to: number): T[] {
  return samples.filter((s) => s.t >= from && s.t < to);
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * Sustained rate over the steady window: total events in the window divided by its length, from
 * per-interval rate samples (each sample covers `intervalS` seconds ending at `t`).
 */
export function sustainedRate(
  samples: readonly RateSample[],
  from: number,
  to: number,
  intervalS: number,
): number {
  const inWindow = window(samples, from + intervalS, to + 1e-9);
  if (inWindow.length === 0) return 0;
  const events = inWindow.reduce((sum, s) => sum + s.rate * intervalS, 0);
  return events / (inWindow.length * intervalS);
}

/** CPU share (1.0 = one full core) between two cumulative CPU-time readings, seconds. */
export function cpuShare(cpuSecondsBefore: number, cpuSecondsAfter: number, wallSeconds: number): number {
  return wallSeconds > 0 ? Math.max(0, cpuSecondsAfter - cpuSecondsBefore) / wallSeconds : 0;
}

/** Relative growth of the last value over a baseline, e.g. 0.08 for +8 %. */
export function growth(baseline: number, last: number): number {
  return baseline > 0 ? (last - baseline) / baseline : 0;
}

export function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
