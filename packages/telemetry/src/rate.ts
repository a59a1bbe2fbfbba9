/** Counts events and reports the rate over the interval since the previous `take()`. */
export class RateMeter {
  #count = 0;
  #total = 0;
  #since: number;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#since = now();
  }

  add(n = 1): void {
    this.#count += n;
    this.#total += n;
  }

  get total(): number {
    return this.#total;
  }

  /** Events per second since the last call. */
  take(): number {
    const now = this.#now();
    const seconds = (now - this.#since) / 1000;
    const rate = seconds > 0 ? this.#count / seconds : 0;
    this.#count = 0;
    this.#since = now;
    return rate;
  }
}
