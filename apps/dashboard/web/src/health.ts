// The pipeline's health in the top bar: throughput, p99 latency and lag read from the apps' /metrics (the
// server scrapes them), and the age of the newest trade, which the page tracks itself.
import type { PipelineHealth } from '../../src/api-types.ts';
import { formatAge, formatCount, formatMs } from './format.ts';

type Level = 'ok' | 'warn' | 'bad' | 'none';

export class HealthBar {
  readonly #root: HTMLElement;
  readonly #targets: HTMLElement;
  #newestUs: number | null = null;

  constructor(root: HTMLElement, targets: HTMLElement) {
    this.#root = root;
    this.#targets = targets;
    window.setInterval(() => this.#renderAge(), 500);
  }

  /** The newest event time the page has seen (from the stream), µs. */
  seen(eventUs: number): void {
    if (this.#newestUs === null || eventUs > this.#newestUs) this.#newestUs = eventUs;
  }

  update(h: PipelineHealth): void {
    if (h.newest_event_us !== null) this.seen(h.newest_event_us);
    const hasTargets = h.targets.length > 0;
    const note = hasTargets ? 'not exported by the pipeline apps' : 'set METRICS_URLS to the apps’ /metrics';
    this.#set(
      'throughput',
      h.throughput_per_s === null ? '—' : `${formatCount(h.throughput_per_s)}/s`,
      h.throughput_per_s === null ? 'none' : 'ok',
      h.throughput_per_s === null ? note : 'Trades per second stored by the aggregators',
    );
    this.#set(
      'p99',
      formatMs(h.p99_ms),
      h.p99_ms === null ? 'none' : h.p99_ms > 1000 ? 'bad' : h.p99_ms > 250 ? 'warn' : 'ok',
      h.p99_ms === null ? note : 'Worst p99 end-to-end latency',
    );
    this.#set(
      'lag',
      h.lag === null ? '—' : formatCount(h.lag),
      h.lag === null ? 'none' : h.lag > 100_000 ? 'bad' : h.lag > 10_000 ? 'warn' : 'ok',
      h.lag === null ? note : 'Messages not yet consumed',
    );
    this.#targets.replaceChildren(
      ...h.targets.map((t) => {
        const span = document.createElement('span');
        span.className = `target ${t.up ? 'up' : 'down'}`;
        span.textContent = t.app ?? new URL(t.url).host;
        span.title = t.up ? `${t.url}: up` : `${t.url}: ${t.error ?? 'down'}`;
        return span;
      }),
    );
    this.#renderAge();
  }

  #renderAge(): void {
    if (this.#newestUs === null) {
      this.#set('age', '—', 'none', 'No trades yet');
      return;
    }
    const ms = Date.now() - this.#newestUs / 1000;
    this.#set(
      'age',
      formatAge(ms),
      ms > 60_000 ? 'bad' : ms > 5_000 ? 'warn' : 'ok',
      'Time since the newest trade (event time)',
    );
  }

  #set(key: string, value: string, level: Level, title: string): void {
    const stat = this.#root.querySelector<HTMLElement>(`.stat[data-key="${key}"]`);
    if (!stat) return;
    const dd = stat.querySelector('dd');
    if (dd && dd.textContent !== value) dd.textContent = value;
    stat.dataset.level = level;
    stat.title = title;
  }
}
