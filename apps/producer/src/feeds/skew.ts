/**
 * Rolling median of (local receive time - exchange event time) over the last `window` samples, in ms.
 *
 * A single sample mixes the clock offset between the exchange and this host with the one-way network delay
 * (and the exchange's own publishing delay); the median of many is a stable baseline that is robust to the
 * bursts and stalls a live feed has. Latency dashboards subtract it from event-time based latencies to split
 * "feed + network" from "pipeline" delay. Pure: the caller passes both times.
 */
export class SkewEstimator {
  readonly window: number;
  /** Samples in arrival order (ring). */
  readonly #ring: Float64Array;
  /** The same samples, sorted ascending in [0, #count). */
  readonly #sorted: Float64Array;
  #count = 0;
  #next = 0;

  constructor(window = 501) {
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new RangeError(`SkewEstimator window must be a positive integer, got ${window}`);
    }
    this.window = window;
    this.#ring = new Float64Array(window);
    this.#sorted = new Float64Array(window);
  }

  /** Adds one observation: a trade with exchange time `eventMs` received at local wall-clock time `localMs`. */
  observe(localMs: number, eventMs: number): void {
    this.add(localMs - eventMs);
  }

  /** Adds one offset sample (ms); non-finite samples are ignored. O(window) worst case, O(log window) search. */
  add(offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) return;
    if (this.#count === this.window) {
      const evicted = this.#ring[this.#next] as number;
      const at = this.#indexOf(evicted);
      this.#sorted.copyWithin(at, at + 1, this.#count);
      this.#count--;
    }
    this.#ring[this.#next] = offsetMs;
    this.#next = this.#next + 1 === this.window ? 0 : this.#next + 1;
    const at = this.#lowerBound(offsetMs);
    this.#sorted.copyWithin(at + 1, at, this.#count);
    this.#sorted[at] = offsetMs;
    this.#count++;
  }

  /** Median of the window (mean of the two middle samples for an even count); null before any sample. */
  get median(): number | null {
    const n = this.#count;
    if (n === 0) return null;
    const mid = n >>> 1;
    const hi = this.#sorted[mid] as number;
    return n % 2 === 1 ? hi : ((this.#sorted[mid - 1] as number) + hi) / 2;
  }

  get count(): number {
    return this.#count;
  }

  #lowerBound(value: number): number {
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#sorted[mid] as number) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #indexOf(value: number): number {
    // The evicted value was inserted verbatim, so an exact match exists.
    return this.#lowerBound(value);
  }
}
