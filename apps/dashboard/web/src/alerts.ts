// The alerts feed: newest first, de-duplicated by (symbol, window) since an alert can arrive both from the
// stream and from /api/v1/alerts after a reconnect.
import type { AlertJson } from '../../src/api-types.ts';
import { formatAgo, formatClockShort, formatPct, formatPrice } from './format.ts';

const MAX_ITEMS = 200;

interface Item {
  alert: AlertJson;
  li: HTMLLIElement;
  ago: HTMLElement;
}

export class AlertsFeed {
  readonly #list: HTMLOListElement;
  readonly #empty: HTMLElement;
  readonly #count: HTMLElement;
  readonly #items = new Map<string, Item>();
  #onSelect: (symbol: string) => void = () => {};

  constructor(list: HTMLOListElement, empty: HTMLElement, count: HTMLElement) {
    this.#list = list;
    this.#empty = empty;
    this.#count = count;
    list.addEventListener('click', (e) => {
      const li = (e.target as HTMLElement).closest('li');
      if (li?.dataset.symbol) this.#onSelect(li.dataset.symbol);
    });
    window.setInterval(() => this.#refreshTimes(), 10_000);
  }

  onSelect(fn: (symbol: string) => void): void {
    this.#onSelect = fn;
  }

  /** Adds alerts (any order); `fresh` ones are highlighted as they arrive live. */
  add(alerts: readonly AlertJson[], fresh: boolean): void {
    for (const a of alerts) {
      const key = `${a.symbol}|${a.window_start_us}|${a.window_end_us}`;
      if (this.#items.has(key)) continue;
      const item = this.#render(a, fresh);
      this.#items.set(key, item);
      // Keep the list ordered by window end, newest first.
      let before: Element | null = null;
      for (const other of this.#list.children) {
        if (Number((other as HTMLElement).dataset.end) < a.window_end_us) {
          before = other;
          break;
        }
      }
      this.#list.insertBefore(item.li, before);
    }
    while (this.#items.size > MAX_ITEMS) {
      const last = this.#list.lastElementChild as HTMLElement | null;
      if (!last) break;
      this.#items.delete(last.dataset.key ?? '');
      last.remove();
    }
    this.#empty.hidden = this.#items.size > 0;
    this.#count.textContent = String(this.#items.size);
  }

  #render(a: AlertJson, fresh: boolean): Item {
    const li = document.createElement('li');
    const up = a.direction === 'UP';
    li.className = `alert ${up ? 'alert-up' : 'alert-down'}${fresh ? ' fresh' : ''}`;
    li.dataset.symbol = a.symbol;
    li.dataset.end = String(a.window_end_us);
    li.dataset.key = `${a.symbol}|${a.window_start_us}|${a.window_end_us}`;
    li.title = `${a.symbol}: ${formatPct(a.change_pct)} between ${formatClockShort(a.window_start_us)} and ${formatClockShort(a.window_end_us)} (threshold ${a.threshold_pct}%)`;

    const top = document.createElement('div');
    top.className = 'alert-top';
    const sym = document.createElement('span');
    sym.className = 'sym';
    sym.textContent = a.symbol;
    const chg = document.createElement('span');
    chg.className = 'chg';
    chg.textContent = `${up ? '▲' : '▼'} ${formatPct(a.change_pct)}`;
    top.append(sym, chg);

    const body = document.createElement('div');
    body.className = 'alert-body';
    body.textContent = `${formatPrice(a.open)} → ${formatPrice(a.close)}`;
    const thr = document.createElement('span');
    thr.className = 'muted';
    thr.textContent = ` · > ${a.threshold_pct}%`;
    body.append(thr);

    const foot = document.createElement('div');
    foot.className = 'alert-foot';
    const win = document.createElement('span');
    win.textContent = `${formatClockShort(a.window_start_us)}–${formatClockShort(a.window_end_us)}`;
    const ago = document.createElement('span');
    ago.className = 'ago';
    ago.textContent = formatAgo(Date.now() - a.window_end_us / 1000);
    foot.append(win, ago);

    li.append(top, body, foot);
    if (fresh) window.setTimeout(() => li.classList.remove('fresh'), 4000);
    return { alert: a, li, ago };
  }

  #refreshTimes(): void {
    const now = Date.now();
    for (const { alert, ago } of this.#items.values())
      ago.textContent = formatAgo(now - alert.window_end_us / 1000);
  }
}
