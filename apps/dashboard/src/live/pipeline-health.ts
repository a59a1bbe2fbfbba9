import type { PipelineHealth, PipelineTarget } from '../api-types.ts';
import {
  appOf,
  counterRate,
  type Exposition,
  lagOf,
  p99Ms,
  parseExposition,
  throughputCounter,
} from '../prom.ts';

export interface MonitorOptions {
  intervalMs: number;
  /** Per-request timeout (default: 80% of the interval, at most 5 s). */
  timeoutMs?: number;
  /** The newest event time of any symbol the dashboard has seen, µs (from the latest-price poller). */
  newestEventUs: () => number | null;
  onUpdate: (health: PipelineHealth) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

interface TargetState {
  url: string;
  prev: Exposition | undefined;
  prevAt: number;
  last: PipelineTarget;
}

/** Combines the targets: throughput of the aggregators (they store what they consume), worst p99, total lag. */
export function summarize(targets: readonly PipelineTarget[], newestEventUs: number | null): PipelineHealth {
  const up = targets.filter((t) => t.up);
  const aggregators = up.filter((t) => t.app === 'aggregator' && t.throughput_per_s !== null);
  const rated = (aggregators.length > 0 ? aggregators : up).filter((t) => t.throughput_per_s !== null);
  const p99s = up.map((t) => t.p99_ms).filter((v): v is number => v !== null);
  const lags = up.map((t) => t.lag).filter((v): v is number => v !== null);
  return {
    targets: [...targets],
    throughput_per_s: rated.length > 0 ? rated.reduce((s, t) => s + (t.throughput_per_s ?? 0), 0) : null,
    p99_ms: p99s.length > 0 ? Math.max(...p99s) : null,
    lag: lags.length > 0 ? lags.reduce((s, v) => s + v, 0) : null,
    newest_event_us: newestEventUs,
  };
}

/**
 * Scrapes the pipeline apps' /metrics every interval and derives throughput (counter rate between two
 * scrapes), p99 latency and consumer lag. A target that is down or serves none of these metrics shows as
 * such (up: false with the error, or null figures); it never breaks the dashboard.
 */
export class PipelineMonitor {
  readonly #targets: TargetState[];
  readonly #opts: MonitorOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #current: PipelineHealth;
  #stopped = false;

  constructor(urls: readonly string[], options: MonitorOptions) {
    this.#opts = options;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#targets = urls.map((url) => ({
      url,
      prev: undefined,
      prevAt: 0,
      last: {
        url,
        app: null,
        up: false,
        error: 'not scraped yet',
        scraped_at_us: null,
        throughput_per_s: null,
        throughput_metric: null,
        p99_ms: null,
        lag: null,
      },
    }));
    this.#current = summarize(
      this.#targets.map((t) => t.last),
      null,
    );
  }

  get current(): PipelineHealth {
    return this.#current;
  }

  start(): void {
    const loop = async () => {
      if (this.#stopped) return;
      await this.scrapeOnce();
      if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.intervalMs).unref();
    };
    void loop();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async scrapeOnce(): Promise<PipelineHealth> {
    const timeoutMs = this.#opts.timeoutMs ?? Math.min(5000, Math.max(200, this.#opts.intervalMs * 0.8));
    await Promise.all(this.#targets.map((t) => this.#scrape(t, timeoutMs)));
    this.#current = summarize(
      this.#targets.map((t) => t.last),
      this.#opts.newestEventUs(),
    );
    this.#opts.onUpdate(this.#current);
    return this.#current;
  }

  async #scrape(t: TargetState, timeoutMs: number): Promise<void> {
    const at = this.#now();
    try {
      const res = await this.#fetch(t.url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const cur = parseExposition(await res.text());
      const counter = throughputCounter(cur);
      t.last = {
        url: t.url,
        app: appOf(cur),
        up: true,
        error: null,
        scraped_at_us: at * 1000,
        throughput_per_s: counter && t.prev ? counterRate(t.prev, cur, counter, at - t.prevAt) : null,
        throughput_metric: counter,
        p99_ms: p99Ms(cur, t.prev),
        lag: lagOf(cur),
      };
      t.prev = cur;
      t.prevAt = at;
    } catch (err) {
      const e = err as Error;
      const reason = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : describe(e);
      t.last = { ...t.last, up: false, error: reason, throughput_per_s: null, p99_ms: null, lag: null };
      t.prev = undefined;
    }
  }
}

function describe(err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
