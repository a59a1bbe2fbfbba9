/**
 * Sliding-window rate limiter: at most `limit` events in any `windowMs`. Pure (the caller passes a monotonic
 * clock reading), remembering only the last `limit` event times.
 *
 * Tickflow uses it for the exchanges' published limits: Binance allows 300 connection attempts per 5 minutes
 * per IP and 5 incoming control messages per second per connection.
 */
export class WindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #times: Float64Array;
  #count = 0;
  #next = 0;

  constructor(limit: number, windowMs: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.limit = limit;
    this.windowMs = windowMs;
    this.#times = new Float64Array(limit);
  }

  /** Milliseconds to wait before the next event is allowed (0: allowed now). */
  delayMs(nowMs: number): number {
    if (this.#count < this.limit) return 0;
    // Full ring: #next holds the oldest of the last `limit` events.
    const oldest = this.#times[this.#next] as number;
    return Math.max(0, oldest + this.windowMs - nowMs);
  }

  /** Records an event now if allowed and returns 0; otherwise records nothing and returns the wait in ms. */
  take(nowMs: number): number {
    const wait = this.delayMs(nowMs);
    if (wait > 0) return wait;
    this.#times[this.#next] = nowMs;
    this.#next = this.#next + 1 === this.limit ? 0 : this.#next + 1;
    if (this.#count < this.limit) this.#count++;
    return 0;
  }
}
