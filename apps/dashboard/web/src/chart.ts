// Candlestick chart with volume for one symbol and interval (lightweight-charts). History comes from
// /api/v1/bars; the last candle then follows the live price from the stream, and the newest bars are
// re-read every few seconds so volume and any trade the coalesced stream skipped are exact.
import {
  type CandlestickData,
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { BarIntervalName, BarJson, LatestPrice } from '../../src/api-types.ts';
import { api } from './api.ts';
import {
  formatClockShort,
  formatDay,
  formatDayTime,
  formatPct,
  formatPrice,
  formatVolume,
  priceDecimals,
} from './format.ts';

const INTERVAL_US: Record<BarIntervalName, number> = {
  '1m': 60_000_000,
  '5m': 300_000_000,
  '15m': 900_000_000,
  '1h': 3_600_000_000,
  '1d': 86_400_000_000,
};

const HISTORY: Record<BarIntervalName, number> = { '1m': 360, '5m': 400, '15m': 400, '1h': 500, '1d': 365 };

interface Candle {
  startUs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const toTime = (us: number) => Math.floor(us / 1_000_000) as UTCTimestamp;

export class CandleChart {
  readonly #el: HTMLElement;
  readonly #legend: HTMLElement;
  readonly #chart: IChartApi;
  readonly #candles: ISeriesApi<'Candlestick'>;
  readonly #volume: ISeriesApi<'Histogram'>;
  readonly #up = css('--up', '#22c55e');
  readonly #down = css('--down', '#ef4444');
  #symbol = '';
  #interval: BarIntervalName = '1m';
  #data: Candle[] = [];
  #ready = false;
  #loadSeq = 0;
  #updates = 0;
  #hovered: Candle | undefined;
  #reconcileTimer: number | undefined;

  constructor(el: HTMLElement, legend: HTMLElement) {
    this.#el = el;
    this.#legend = legend;
    const text = css('--muted', '#8b95a7');
    const grid = css('--grid', '#1a2230');
    this.#chart = createChart(el, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: text,
        fontFamily: getComputedStyle(document.body).fontFamily,
        fontSize: 11,
        attributionLogo: true,
      },
      grid: { vertLines: { color: grid }, horzLines: { color: grid } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderColor: grid, scaleMargins: { top: 0.08, bottom: 0.26 } },
      timeScale: {
        borderColor: grid,
        timeVisible: true,
        secondsVisible: false,
        rightOffset: 4,
        barSpacing: 7,
        // Tick labels in the viewer's local time (the chart itself works in UTC seconds).
        tickMarkFormatter: (time: Time, type: number) => {
          const us = (time as number) * 1_000_000;
          return type <= 2 ? formatDay(us) : formatClockShort(us);
        },
      },
      localization: {
        timeFormatter: (time: Time) => formatDayTime((time as number) * 1_000_000),
        priceFormatter: (p: number) => formatPrice(p),
      },
    });
    this.#candles = this.#chart.addSeries(CandlestickSeries, {
      upColor: this.#up,
      downColor: this.#down,
      wickUpColor: this.#up,
      wickDownColor: this.#down,
      borderVisible: false,
      priceLineVisible: true,
      lastValueVisible: true,
    });
    this.#volume = this.#chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.#chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.#chart.subscribeCrosshairMove((p: MouseEventParams) => {
      const t = p.time as number | undefined;
      this.#hovered = t === undefined ? undefined : this.#data.find((c) => toTime(c.startUs) === t);
      this.#renderLegend();
    });
  }

  get symbol(): string {
    return this.#symbol;
  }

  get interval(): BarIntervalName {
    return this.#interval;
  }

  /** Loads history for a symbol and interval; live updates apply once it is in. */
  async load(symbol: string, interval: BarIntervalName): Promise<void> {
    const seq = ++this.#loadSeq;
    const changedSymbol = symbol !== this.#symbol;
    this.#symbol = symbol;
    this.#interval = interval;
    this.#ready = false;
    this.#el.dataset.symbol = symbol;
    this.#el.dataset.interval = interval;
    this.#el.classList.add('loading');
    try {
      const res = await api.bars(symbol, interval, HISTORY[interval]);
      if (seq !== this.#loadSeq) return;
      this.#data = res.bars.map(fromJson);
      const sample = this.#data[this.#data.length - 1]?.close ?? 1;
      const decimals = priceDecimals(sample);
      this.#candles.applyOptions({
        priceFormat: { type: 'price', precision: decimals, minMove: 10 ** -decimals },
      });
      this.#candles.setData(this.#data.map((c) => this.#candleData(c)));
      this.#volume.setData(this.#data.map((c) => this.#volumeData(c)));
      if (changedSymbol || this.#data.length > 0) this.#chart.timeScale().scrollToRealTime();
      this.#ready = true;
      this.#afterUpdate();
    } finally {
      if (seq === this.#loadSeq) this.#el.classList.remove('loading');
    }
    this.#scheduleReconcile();
  }

  /** Live prices: the last candle follows the price; a price in a newer bucket opens a candle. */
  onPrices(prices: readonly LatestPrice[]): void {
    if (!this.#ready) return;
    for (const p of prices) {
      if (p.symbol !== this.#symbol) continue;
      const lengthUs = INTERVAL_US[this.#interval];
      const start = p.event_time_us - (p.event_time_us % lengthUs);
      const last = this.#data[this.#data.length - 1];
      if (last !== undefined && start < last.startUs) continue;
      if (last !== undefined && start === last.startUs) {
        last.close = p.price;
        if (p.price > last.high) last.high = p.price;
        if (p.price < last.low) last.low = p.price;
        this.#candles.update(this.#candleData(last));
        this.#volume.update(this.#volumeData(last));
      } else {
        const c: Candle = {
          startUs: start,
          open: p.price,
          high: p.price,
          low: p.price,
          close: p.price,
          volume: p.size,
        };
        this.#data.push(c);
        this.#candles.update(this.#candleData(c));
        this.#volume.update(this.#volumeData(c));
        // The bar's exact volume is in the database a moment later.
        window.setTimeout(() => void this.reconcile(), 1500);
      }
      this.#afterUpdate();
    }
  }

  /** Re-reads the newest bars (exact volume, trades the coalesced stream skipped). */
  async reconcile(): Promise<void> {
    if (!this.#ready || this.#symbol === '') return;
    const seq = this.#loadSeq;
    try {
      const res = await api.bars(this.#symbol, this.#interval, 3);
      if (seq !== this.#loadSeq || !this.#ready) return;
      for (const b of res.bars) {
        const fresh = fromJson(b);
        const i = this.#data.findIndex((c) => c.startUs === fresh.startUs);
        const last = this.#data[this.#data.length - 1];
        if (i >= 0) {
          const cur = this.#data[i] as Candle;
          // The live price may be ahead of the database for the newest candle; keep the newer close.
          if (i === this.#data.length - 1) {
            fresh.close = cur.close;
            fresh.high = Math.max(fresh.high, cur.high);
            fresh.low = Math.min(fresh.low, cur.low);
          }
          this.#data[i] = fresh;
        } else if (last === undefined || fresh.startUs > last.startUs) {
          this.#data.push(fresh);
        } else {
          continue;
        }
        this.#candles.update(this.#candleData(fresh));
        this.#volume.update(this.#volumeData(fresh));
      }
      this.#afterUpdate();
    } catch {
      // The next reconcile tries again.
    }
  }

  #scheduleReconcile(): void {
    if (this.#reconcileTimer !== undefined) clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = window.setInterval(() => void this.reconcile(), 5000);
  }

  #candleData(c: Candle): CandlestickData<Time> {
    return { time: toTime(c.startUs), open: c.open, high: c.high, low: c.low, close: c.close };
  }

  #volumeData(c: Candle): HistogramData<Time> {
    return {
      time: toTime(c.startUs),
      value: c.volume,
      color: `${c.close >= c.open ? this.#up : this.#down}66`,
    };
  }

  /** Exposes the last candle for tests and tools: data-last-candle on the chart element. */
  #afterUpdate(): void {
    this.#updates++;
    const last = this.#data[this.#data.length - 1];
    this.#el.dataset.updates = String(this.#updates);
    this.#el.dataset.candles = String(this.#data.length);
    this.#el.dataset.lastCandle = last
      ? JSON.stringify({
          t: last.startUs,
          o: last.open,
          h: last.high,
          l: last.low,
          c: last.close,
          v: last.volume,
        })
      : '';
    this.#el.classList.toggle('empty', this.#data.length === 0);
    this.#renderLegend();
  }

  #renderLegend(): void {
    const c = this.#hovered ?? this.#data[this.#data.length - 1];
    if (c === undefined) {
      this.#legend.textContent = this.#symbol ? 'No bars yet for this symbol' : '';
      return;
    }
    const d = priceDecimals(c.close);
    const chg = c.open > 0 ? (c.close / c.open - 1) * 100 : null;
    const cls = c.close >= c.open ? 'up' : 'down';
    this.#legend.innerHTML = '';
    const parts: Array<[string, string, string?]> = [
      ['', formatDayTime(c.startUs)],
      ['O', formatPrice(c.open, d)],
      ['H', formatPrice(c.high, d)],
      ['L', formatPrice(c.low, d)],
      ['C', formatPrice(c.close, d), cls],
      ['', formatPct(chg), cls],
      ['Vol', formatVolume(c.volume)],
    ];
    for (const [label, value, klass] of parts) {
      const span = document.createElement('span');
      if (label) {
        const b = document.createElement('b');
        b.textContent = label;
        span.append(b, ' ');
      }
      const v = document.createElement('span');
      v.textContent = value;
      if (klass) v.className = klass;
      span.append(v);
      this.#legend.append(span);
    }
  }
}

function fromJson(b: BarJson): Candle {
  return { startUs: b.start_us, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume };
}
