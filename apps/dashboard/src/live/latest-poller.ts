import type { LatestPrice } from '../api-types.ts';
import type { StreamHub } from './hub.ts';
import type { LatestSource } from './redis-latest.ts';

const IDLE_POLL_MS = 2000;

export interface PollerOptions {
  intervalMs: number;
  onError?: (err: Error) => void;
  now?: () => number;
}

function sameTrade(a: LatestPrice, b: LatestPrice): boolean {
  return (
    a.event_time_us === b.event_time_us &&
    a.trade_id === b.trade_id &&
    a.price === b.price &&
    a.size === b.size
  );
}

/**
 * Coalesces latest prices by polling: every interval it reads each symbol's `latest:` hash (one pipelined
 * round trip) and hands the hub only the symbols whose trade changed. Each symbol therefore produces at
 * most one update per interval, whatever the trade rate, and the cost is O(symbols) per interval, not
 * O(trades). Redis keyspace notifications were the alternative: they need `notify-keyspace-events` set
 * on the server (often not allowed on managed Redis), fire on every write (thousands per second) and
 * would still need this coalescing. Without stream clients it polls every 2 s only.
 */
export class LatestPoller {
  readonly #source: LatestSource;
  readonly #hub: StreamHub;
  readonly #opts: PollerOptions;
  readonly #now: () => number;
  readonly #seen = new Map<string, LatestPrice>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #lastPollAt = Number.NEGATIVE_INFINITY;
  #polls = 0;
  #errors = 0;

  constructor(source: LatestSource, hub: StreamHub, options: PollerOptions) {
    this.#source = source;
    this.#hub = hub;
    this.#opts = options;
    this.#now = options.now ?? Date.now;
  }

  get stats(): { polls: number; errors: number } {
    return { polls: this.#polls, errors: this.#errors };
  }

  /** Newest event time over every symbol seen, µs. */
  newestEventUs(): number | null {
    let newest: number | null = null;
    for (const p of this.#seen.values())
      if (newest === null || p.event_time_us > newest) newest = p.event_time_us;
    return newest;
  }

  start(): void {
    const loop = async () => {
      if (this.#stopped) return;
      // Without stream clients, poll only every few seconds: enough to keep the snapshot and the newest
      // event time (for /api/v1/pipeline) fresh.
      const idle = this.#hub.size === 0;
      if (!idle || this.#now() - this.#lastPollAt >= IDLE_POLL_MS) await this.poll();
      if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.intervalMs).unref();
    };
    void loop();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** Polls now unless a poll completed within the interval; a new client calls this before subscribing. */
  async prime(): Promise<void> {
    if (this.#now() - this.#lastPollAt >= this.#opts.intervalMs) await this.poll();
  }

  /** One poll; concurrent callers share it. */
  poll(): Promise<void> {
    this.#running ??= this.#poll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #poll(): Promise<void> {
    try {
      const prices = await this.#source.many();
      const changed: LatestPrice[] = [];
      for (const p of prices) {
        const before = this.#seen.get(p.symbol);
        if (before === undefined || !sameTrade(before, p)) {
          this.#seen.set(p.symbol, p);
          changed.push(p);
        }
      }
      this.#polls++;
      this.#lastPollAt = this.#now();
      this.#hub.publishPrices(changed);
    } catch (err) {
      this.#errors++;
      this.#opts.onError?.(err as Error);
    }
  }
}
