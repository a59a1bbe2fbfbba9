export interface PacerOptions {
  /** Target messages per second; Infinity means "as fast as possible" (the caller's back-pressure limits it). */
  ratePerSec: number;
  /** Clock reading (ms, e.g. performance.now()) the schedule starts from. */
  startMs: number;
  /**
   * Most messages released by one `due()` call. After a stall longer than this much backlog the excess is dropped
   * rather than flooding the broker, and counted in `dropped`. Default: 250 ms worth of messages (at least 1);
   * 1024 for an unbounded rate.
   */
  maxBurst?: number;
}

const DEFAULT_BURST_SECONDS = 0.25;
const UNBOUNDED_BATCH = 1024;

/**
 * Pure rate pacer. The number due is derived from the total elapsed time since an anchor (one multiplication),
 * not from summed per-tick increments, so fractional debt never drifts and the long-run rate is exact.
 */
export class Pacer {
  readonly ratePerSec: number;
  readonly maxBurst: number;
  #anchorMs: number;
  #sentSinceAnchor = 0;
  #dropped = 0;

  constructor(options: PacerOptions) {
    const { ratePerSec, startMs } = options;
    if (!(ratePerSec > 0)) throw new RangeError(`rate must be > 0 msg/s or Infinity, got ${ratePerSec}`);
    this.ratePerSec = ratePerSec;
    this.maxBurst =
      options.maxBurst ??
      (Number.isFinite(ratePerSec)
        ? Math.max(1, Math.ceil(ratePerSec * DEFAULT_BURST_SECONDS))
        : UNBOUNDED_BATCH);
    if (!(this.maxBurst >= 1)) throw new RangeError(`maxBurst must be >= 1, got ${this.maxBurst}`);
    this.#anchorMs = startMs;
  }

  /** How many messages to send now. Call it with a monotonic clock; a clock going backwards yields 0. */
  due(nowMs: number): number {
    if (!Number.isFinite(this.ratePerSec)) return this.maxBurst;
    const owed = Math.floor((this.ratePerSec * (nowMs - this.#anchorMs)) / 1000) - this.#sentSinceAnchor;
    if (owed <= 0) return 0;
    if (owed <= this.maxBurst) {
      this.#sentSinceAnchor += owed;
      return owed;
    }
    // A stall: release one burst and restart the schedule from now, forgetting the rest of the backlog.
    this.#dropped += owed - this.maxBurst;
    this.#anchorMs = nowMs;
    this.#sentSinceAnchor = 0;
    return this.maxBurst;
  }

  /** Milliseconds until the next message is due (0 if one is due now), for sleeping between calls. */
  msUntilNext(nowMs: number): number {
    if (!Number.isFinite(this.ratePerSec)) return 0;
    const nextAtMs = this.#anchorMs + ((this.#sentSinceAnchor + 1) * 1000) / this.ratePerSec;
    return Math.max(0, nextAtMs - nowMs);
  }

  /** Messages skipped because of stalls longer than the burst allowance. */
  get dropped(): number {
    return this.#dropped;
  }
}

export interface RateReport {
  requestedPerSec: number;
  achievedPerSec: number;
  /** achieved / requested; null when the requested rate is unbounded or the elapsed time is zero. */
  ratio: number | null;
}

/** Achieved vs requested rate over a run, for the producer's periodic and final stats. */
export function rateReport(requestedPerSec: number, sent: number, elapsedMs: number): RateReport {
  const achievedPerSec = elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0;
  const ratio =
    Number.isFinite(requestedPerSec) && requestedPerSec > 0 && elapsedMs > 0
      ? achievedPerSec / requestedPerSec
      : null;
  return { requestedPerSec, achievedPerSec, ratio };
}
