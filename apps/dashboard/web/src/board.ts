// The price board: one row per symbol with its last price, change over the window and a sparkline of
// one-minute closes, updated in place from the stream (the last point follows the live price).
import type { BoardResponse, BoardRow, LatestPrice } from '../../src/api-types.ts';
import { formatPct, formatPrice } from './format.ts';

const MINUTE_US = 60_000_000;

interface Row {
  symbol: string;
  tr: HTMLTableRowElement;
  last: HTMLElement;
  change: HTMLElement;
  canvas: HTMLCanvasElement;
  price: number;
  eventUs: number;
  ref: number | null;
  spark: Array<{ start_us: number; close: number }>;
  drawQueued: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class PriceBoard {
  readonly #tbody: HTMLTableSectionElement;
  readonly #empty: HTMLElement;
  readonly #count: HTMLElement;
  readonly #rows = new Map<string, Row>();
  #minutes = 60;
  #selected: string | undefined;
  #onSelect: (symbol: string) => void = () => {};

  constructor(table: HTMLTableElement, empty: HTMLElement, count: HTMLElement) {
    this.#tbody = table.tBodies[0] as HTMLTableSectionElement;
    this.#empty = empty;
    this.#count = count;
    this.#tbody.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest('tr');
      if (tr?.dataset.symbol) this.#onSelect(tr.dataset.symbol);
    });
    window.addEventListener('resize', () => {
      for (const r of this.#rows.values()) this.#queueDraw(r);
    });
  }

  onSelect(fn: (symbol: string) => void): void {
    this.#onSelect = fn;
  }

  get symbols(): string[] {
    return [...this.#rows.keys()];
  }

  price(symbol: string): { price: number; ref: number | null } | undefined {
    const r = this.#rows.get(symbol);
    return r ? { price: r.price, ref: r.ref } : undefined;
  }

  select(symbol: string): void {
    this.#selected = symbol;
    for (const r of this.#rows.values()) r.tr.classList.toggle('selected', r.symbol === symbol);
    this.#rows.get(symbol)?.tr.scrollIntoView({ block: 'nearest' });
  }

  /** Moves the selection up or down the board (arrow keys). */
  step(delta: number): string | undefined {
    const list = this.symbols;
    if (list.length === 0) return undefined;
    const i = this.#selected === undefined ? -1 : list.indexOf(this.#selected);
    return list[Math.min(list.length - 1, Math.max(0, i + delta))];
  }

  /** Full refresh from /api/v1/board; a live price newer than the response is kept. */
  setBoard(board: BoardResponse): void {
    this.#minutes = board.minutes;
    for (const row of board.symbols) {
      const r = this.#ensure(row.symbol);
      this.#applyBoardRow(r, row);
    }
    this.#sort();
  }

  onPrices(prices: readonly LatestPrice[]): void {
    let added = false;
    for (const p of prices) {
      let r = this.#rows.get(p.symbol);
      if (r === undefined) {
        r = this.#ensure(p.symbol);
        added = true;
      }
      if (p.event_time_us < r.eventUs) continue;
      const before = r.price;
      r.price = p.price;
      r.eventUs = p.event_time_us;
      this.#extendSpark(r, p);
      this.#renderNumbers(r);
      if (before > 0 && before !== p.price) this.#flash(r, p.price > before ? 'tick-up' : 'tick-down');
      this.#queueDraw(r);
    }
    if (added) this.#sort();
  }

  #ensure(symbol: string): Row {
    const existing = this.#rows.get(symbol);
    if (existing) return existing;
    const tr = el('tr');
    tr.dataset.symbol = symbol;
    tr.tabIndex = -1;
    const sym = el('td', 'sym');
    sym.append(el('span', 'sym-name', symbol));
    const last = el('td', 'num last', '—');
    const change = el('td', 'num change', '—');
    const sparkCell = el('td', 'spark-col');
    const canvas = el('canvas', 'spark');
    sparkCell.append(canvas);
    tr.append(sym, last, change, sparkCell);
    const row: Row = {
      symbol,
      tr,
      last,
      change,
      canvas,
      price: 0,
      eventUs: 0,
      ref: null,
      spark: [],
      drawQueued: false,
    };
    this.#rows.set(symbol, row);
    this.#tbody.append(tr);
    if (symbol === this.#selected) tr.classList.add('selected');
    this.#empty.hidden = true;
    this.#count.textContent = `${this.#rows.size} symbols`;
    return row;
  }

  #applyBoardRow(r: Row, row: BoardRow): void {
    r.ref = row.ref_price;
    r.spark = row.spark.slice();
    if (row.latest.event_time_us >= r.eventUs) {
      r.price = row.latest.price;
      r.eventUs = row.latest.event_time_us;
    }
    this.#extendSpark(r, { price: r.price, event_time_us: r.eventUs });
    this.#renderNumbers(r);
    this.#queueDraw(r);
  }

  /** The sparkline's last point is the live price; a new minute adds a point and drops the oldest. */
  #extendSpark(r: Row, p: { price: number; event_time_us: number }): void {
    if (p.event_time_us <= 0) return;
    const minute = p.event_time_us - (p.event_time_us % MINUTE_US);
    const last = r.spark[r.spark.length - 1];
    if (last !== undefined && last.start_us === minute) last.close = p.price;
    else if (last === undefined || last.start_us < minute) r.spark.push({ start_us: minute, close: p.price });
    const oldest = minute - (this.#minutes - 1) * MINUTE_US;
    while (r.spark.length > 0 && (r.spark[0]?.start_us ?? 0) < oldest) r.spark.shift();
    if (r.ref === null && r.spark.length > 0) r.ref = r.spark[0]?.close ?? null;
  }

  #renderNumbers(r: Row): void {
    r.last.textContent = formatPrice(r.price);
    const pct = r.ref !== null && r.ref > 0 ? (r.price / r.ref - 1) * 100 : null;
    r.change.textContent = formatPct(pct);
    r.tr.classList.toggle('pos', pct !== null && pct > 0);
    r.tr.classList.toggle('neg', pct !== null && pct < 0);
  }

  #flash(r: Row, cls: 'tick-up' | 'tick-down'): void {
    r.last.classList.remove('tick-up', 'tick-down');
    void r.last.offsetWidth; // restart the animation
    r.last.classList.add(cls);
  }

  #sort(): void {
    const rows = [...this.#rows.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
    for (const r of rows) this.#tbody.append(r.tr);
  }

  #queueDraw(r: Row): void {
    if (r.drawQueued) return;
    r.drawQueued = true;
    requestAnimationFrame(() => {
      r.drawQueued = false;
      drawSparkline(
        r.canvas,
        r.spark.map((s) => s.close),
        r.ref,
      );
    });
  }
}

/** A line of closes with a soft fill and a dotted reference line, coloured by direction. */
export function drawSparkline(
  canvas: HTMLCanvasElement,
  values: readonly number[],
  ref: number | null,
): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (w === 0 || h === 0) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (values.length === 0) return;
  const all = ref !== null ? [...values, ref] : [...values];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-12) {
    hi += 1;
    lo -= 1;
  }
  const pad = 3;
  const x = (i: number) => (values.length === 1 ? w - pad : pad + (i * (w - 2 * pad)) / (values.length - 1));
  const y = (v: number) => pad + (1 - (v - lo) / (hi - lo)) * (h - 2 * pad);
  const last = values[values.length - 1] as number;
  const up = ref === null ? last >= (values[0] as number) : last >= ref;
  const color = cssVar(up ? '--up' : '--down') || (up ? '#22c55e' : '#ef4444');

  if (ref !== null) {
    ctx.strokeStyle = cssVar('--grid-strong') || '#334155';
    ctx.setLineDash([2, 3]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(pad, Math.round(y(ref)) + 0.5);
    ctx.lineTo(w - pad, Math.round(y(ref)) + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.beginPath();
  for (const [i, v] of values.entries()) {
    if (i === 0) ctx.moveTo(x(i), y(v));
    else ctx.lineTo(x(i), y(v));
  }
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  ctx.strokeStyle = color;
  ctx.stroke();
  ctx.lineTo(x(values.length - 1), h);
  ctx.lineTo(x(0), h);
  ctx.closePath();
  const fill = ctx.createLinearGradient(0, 0, 0, h);
  fill.addColorStop(0, `${color}40`);
  fill.addColorStop(1, `${color}00`);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.beginPath();
  ctx.arc(x(values.length - 1), y(last), 2, 0, Math.PI * 2);
  ctx.fillStyle = color;
  ctx.fill();
}
