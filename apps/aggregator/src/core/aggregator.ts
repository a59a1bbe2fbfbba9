/**
 * Pure aggregation core: trades in, closed bars and price alerts out. No I/O, no timers, no
 * Date.now(): wall-clock time (`nowUs`, microseconds, expected non-decreasing, e.g. a monotonic
 * clock mapped to epoch µs) always comes in as an argument.
 *
 * Semantics
 * - Windows. Event-time tumbling windows per symbol, one series per configured interval
 *   (default 1 s and 1 min), aligned to the Unix epoch: start = floor(eventTimeUs / lengthUs) *
 *   lengthUs, window = [start, start + lengthUs).
 * - Bars. open = price of the earliest trade by event time (ties: the first to arrive); close =
 *   price of the latest trade by event time (ties: the last to arrive); high/low = max/min price;
 *   volume = Σ size; vwap = Σ(price·size) / Σ size (clamped to [low, high] to absorb rounding);
 *   tradeCount = number of on-time trades. Windows without trades produce no bar.
 * - Watermark, per symbol. eventClock = maxEventTimeUs + max(0, nowUs - lastArrivalNowUs): the
 *   largest event time seen, advanced by the wall-clock time the symbol has been idle since its last
 *   trade arrived, so the last bar of a symbol that stops trading still closes. watermark =
 *   eventClock - allowedLatenessUs (default 1 s). The watermark is evaluated whenever the symbol is
 *   touched (at each of its trades, just before the trade is applied, and at each drain) and never
 *   moves backwards: a trade that arrives after an idle advance with an event time below the
 *   advanced clock does not reopen anything. Because the idle term only grows between two trades
 *   of a symbol, the set of bars, their contents and the late trades do not depend on how often
 *   drain() is called (for non-decreasing nowUs); only the drain that returns a bar does.
 * - Closing. A window [start, end) closes once watermark >= end. Closing happens at add() (for the
 *   trade's symbol) and at drain(nowUs) (for every symbol); closed bars and alerts are buffered and
 *   returned by the next drain(). Closed windows are released, so per-symbol state is bounded by
 *   the windows still open (about (lateness + out-of-orderness) / length + 1 per interval).
 * - Late trades. A trade whose window (for an interval) has already closed, i.e. window end <=
 *   watermark when the trade arrives, is late for that interval: it is not added to any bar of that
 *   interval (whether or not a bar was emitted for the window, so a window never yields two bars)
 *   and is counted in stats.lateTrades[interval]. add() returns { late: true } when the trade is
 *   late for at least one interval. The app still stores late trades (bars_1m in the database is
 *   computed from all trades).
 * - Price alerts. A separate tumbling window of alertWindowUs (default 60 s) per symbol, same
 *   alignment and watermark. When it closes, changePct = (close / open - 1) * 100 with open/close
 *   chosen as for bars; if |changePct| > alertThresholdPct (strictly; default 0.5 percent) a
 *   PriceAlert is emitted, direction UP if changePct > 0 else DOWN. Trades late for the alert
 *   window are excluded from it and counted in stats.lateAlertTrades (not in add()'s `late`).
 * - Output order. For each symbol, bars come out ordered by window end, ties (e.g. the 1 s bar and
 *   the 1 min bar ending at the same instant) in configured interval order; alerts come out ordered
 *   by window. Nothing is promised across symbols (Kafka output is keyed by symbol).
 * - forget(symbols) drops all state of those symbols, including closed bars/alerts not yet drained
 *   (call drain() first to keep them): the new owner of a revoked partition rebuilds from the
 *   committed offset. Symbols are otherwise kept (a few numbers each) so their watermark survives
 *   idle periods.
 * - flushAll() raises every symbol's watermark to the end of its last open window, closing all of
 *   them; later trades into those windows are late (no window yields two bars). For tests and
 *   shutdown diagnostics, not for normal emission.
 * - Trades must be valid (finite price > 0, size > 0, integer eventTimeUs); the decode/validate
 *   stage guarantees this, and add() throws a RangeError otherwise rather than corrupt state.
 */
import type { Bar, BarInterval, PriceAlert, Trade } from './types.ts';

export interface IntervalConfig {
  readonly name: BarInterval;
  /** Window length in microseconds (a positive integer). */
  readonly lengthUs: number;
}

export interface AggregatorCoreConfig {
  readonly intervals: readonly IntervalConfig[];
  /** How far behind the per-symbol event clock a window stays open, microseconds (>= 0). */
  readonly allowedLatenessUs: number;
  /** Price-alert window length in microseconds (a positive integer). */
  readonly alertWindowUs: number;
  /** Alert when |changePct| is strictly greater than this, in percent (> 0). */
  readonly alertThresholdPct: number;
}

export const DEFAULT_CORE_CONFIG: AggregatorCoreConfig = Object.freeze({
  intervals: Object.freeze([
    Object.freeze({ name: '1s', lengthUs: 1_000_000 }),
    Object.freeze({ name: '1m', lengthUs: 60_000_000 }),
  ]),
  allowedLatenessUs: 1_000_000,
  alertWindowUs: 60_000_000,
  alertThresholdPct: 0.5,
});

export interface AddResult {
  /** True when the trade is late for at least one bar interval. */
  readonly late: boolean;
}

export interface CoreOutput {
  bars: Bar[];
  alerts: PriceAlert[];
}

export interface CoreStats {
  /** Open (not yet closed) windows over all symbols, intervals and the alert window. */
  readonly openWindows: number;
  /** Symbols with state (seen and not forgotten). */
  readonly symbols: number;
  /** Late trades per interval name, since construction. */
  readonly lateTrades: Record<string, number>;
  /** Trades late for the price-alert window, since construction. */
  readonly lateAlertTrades: number;
}

const BAR_INTERVALS: readonly string[] = ['1s', '1m'];

/** Throws an Error naming the first invalid field. */
export function validateCoreConfig(config: AggregatorCoreConfig): void {
  const fail = (what: string, got: unknown): never => {
    // String() for numbers: JSON.stringify would print NaN and Infinity as null.
    const shown = typeof got === 'number' ? String(got) : JSON.stringify(got);
    throw new Error(`invalid aggregator core config: ${what} (got ${shown})`);
  };
  if (!Array.isArray(config.intervals) || config.intervals.length === 0) {
    fail('intervals must be a non-empty array', config.intervals);
  }
  const seen = new Set<string>();
  config.intervals.forEach((interval, i) => {
    if (!BAR_INTERVALS.includes(interval.name)) {
      fail(`intervals[${i}].name must be one of ${BAR_INTERVALS.join(', ')}`, interval.name);
    }
    if (seen.has(interval.name)) fail(`intervals[${i}].name is duplicated`, interval.name);
    seen.add(interval.name);
    if (!isPositiveSafeInteger(interval.lengthUs)) {
      fail(`intervals[${i}].lengthUs must be a positive integer (microseconds)`, interval.lengthUs);
    }
  });
  if (!Number.isSafeInteger(config.allowedLatenessUs) || config.allowedLatenessUs < 0) {
    fail('allowedLatenessUs must be an integer >= 0 (microseconds)', config.allowedLatenessUs);
  }
  if (!isPositiveSafeInteger(config.alertWindowUs)) {
    fail('alertWindowUs must be a positive integer (microseconds)', config.alertWindowUs);
  }
  if (!Number.isFinite(config.alertThresholdPct) || config.alertThresholdPct <= 0) {
    fail('alertThresholdPct must be a finite number > 0 (percent)', config.alertThresholdPct);
  }
}

function isPositiveSafeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

/** Epoch-aligned window start. Integer remainder rather than floor(e / len): exact for all safe integers. */
export function windowStartUs(eventTimeUs: number, lengthUs: number): number {
  const r = eventTimeUs % lengthUs;
  return r < 0 ? eventTimeUs - r - lengthUs : eventTimeUs - r;
}

// Shared results: add() allocates nothing per trade.
const ON_TIME: AddResult = Object.freeze({ late: false });
const LATE: AddResult = Object.freeze({ late: true });

/** One series of tumbling windows (a bar interval, or the alert window when `interval` is undefined). */
interface TrackSpec {
  readonly lengthUs: number;
  readonly interval: BarInterval | undefined;
  late: number;
}

/** Running aggregate of one open window. Every field is set in the constructor to keep one hidden class. */
class Window {
  readonly startUs: number;
  readonly endUs: number;
  open: number;
  openEventUs: number;
  close: number;
  closeEventUs: number;
  high: number;
  low: number;
  volume: number;
  notional: number;
  count: number;

  constructor(startUs: number, endUs: number, price: number, size: number, eventUs: number) {
    this.startUs = startUs;
    this.endUs = endUs;
    this.open = price;
    this.openEventUs = eventUs;
    this.close = price;
    this.closeEventUs = eventUs;
    this.high = price;
    this.low = price;
    this.volume = size;
    this.notional = price * size;
    this.count = 1;
  }

  add(price: number, size: number, eventUs: number): void {
    // Strict `<` keeps the first arrival on ties; `>=` lets the last arrival win for close.
    if (eventUs < this.openEventUs) {
      this.open = price;
      this.openEventUs = eventUs;
    }
    if (eventUs >= this.closeEventUs) {
      this.close = price;
      this.closeEventUs = eventUs;
    }
    if (price > this.high) this.high = price;
    if (price < this.low) this.low = price;
    this.volume += size;
    this.notional += price * size;
    this.count++;
  }
}

class TrackState {
  readonly spec: TrackSpec;
  /** Open windows sorted by start; usually one or two, so linear search from the end is fastest. */
  readonly windows: Window[] = [];

  constructor(spec: TrackSpec) {
    this.spec = spec;
  }
}

class SymbolState {
  readonly symbol: string;
  readonly tracks: TrackState[];
  maxEventUs = Number.NEGATIVE_INFINITY;
  lastArrivalUs = Number.NEGATIVE_INFINITY;
  watermarkUs = Number.NEGATIVE_INFINITY;
  /** Smallest end among open windows: the per-trade close check is one comparison. */
  nextCloseUs = Number.POSITIVE_INFINITY;

  constructor(symbol: string, specs: readonly TrackSpec[]) {
    this.symbol = symbol;
    this.tracks = specs.map((spec) => new TrackState(spec));
  }
}

export class MarketAggregator {
  readonly #lateness: number;
  readonly #thresholdPct: number;
  readonly #intervalSpecs: readonly TrackSpec[];
  readonly #alertSpec: TrackSpec;
  /** Interval tracks in config order, then the alert track (so bar ties follow config order). */
  readonly #specs: readonly TrackSpec[];
  readonly #symbols = new Map<string, SymbolState>();
  #openWindows = 0;
  #bars: Bar[] = [];
  #alerts: PriceAlert[] = [];

  constructor(config: AggregatorCoreConfig = DEFAULT_CORE_CONFIG) {
    validateCoreConfig(config);
    this.#lateness = config.allowedLatenessUs;
    this.#thresholdPct = config.alertThresholdPct;
    this.#intervalSpecs = config.intervals.map((i) => ({ lengthUs: i.lengthUs, interval: i.name, late: 0 }));
    this.#alertSpec = { lengthUs: config.alertWindowUs, interval: undefined, late: 0 };
    this.#specs = [...this.#intervalSpecs, this.#alertSpec];
  }

  /** Applies one trade that arrived at wall-clock `nowUs`. Closed windows are buffered for drain(). */
  add(trade: Trade, nowUs: number): AddResult {
    const { symbol, price, size, eventTimeUs } = trade;
    if (
      !Number.isSafeInteger(eventTimeUs) ||
      !(price > 0 && size > 0 && price < Infinity && size < Infinity)
    ) {
      throw new RangeError(
        `invalid trade for ${symbol}: price=${price} size=${size} eventTimeUs=${eventTimeUs} (validate before aggregating)`,
      );
    }
    let s = this.#symbols.get(symbol);
    if (s === undefined) {
      s = new SymbolState(symbol, this.#specs);
      this.#symbols.set(symbol, s);
    } else {
      // The event clock as it stood just before this arrival, including the idle advance.
      const idle = nowUs - s.lastArrivalUs;
      const wm = s.maxEventUs + Math.max(idle, 0) - this.#lateness;
      if (wm > s.watermarkUs) s.watermarkUs = wm;
    }

    const watermark = s.watermarkUs;
    let late = false;
    for (const track of s.tracks) {
      const spec = track.spec;
      const start = windowStartUs(eventTimeUs, spec.lengthUs);
      const end = start + spec.lengthUs;
      if (end <= watermark) {
        spec.late++;
        if (spec.interval !== undefined) late = true;
        continue;
      }
      const windows = track.windows;
      const last = windows[windows.length - 1];
      if (last !== undefined && last.startUs === start) {
        last.add(price, size, eventTimeUs); // hot path: the newest window
      } else if (last === undefined || last.startUs < start) {
        windows.push(new Window(start, end, price, size, eventTimeUs));
        this.#opened(s, end);
      } else {
        this.#addOutOfOrder(s, windows, start, end, price, size, eventTimeUs);
      }
    }

    if (eventTimeUs > s.maxEventUs) s.maxEventUs = eventTimeUs;
    // max(): a clock stepping backwards must not make a later idle advance look longer.
    if (nowUs > s.lastArrivalUs) s.lastArrivalUs = nowUs;
    const wm = s.maxEventUs - this.#lateness;
    if (wm > s.watermarkUs) s.watermarkUs = wm;
    if (s.watermarkUs >= s.nextCloseUs) this.#closeDue(s);
    return late ? LATE : ON_TIME;
  }

  /** Advances every symbol's watermark to `nowUs` and returns everything closed since the last drain. */
  drain(nowUs: number): CoreOutput {
    const lateness = this.#lateness;
    for (const s of this.#symbols.values()) {
      const idle = nowUs - s.lastArrivalUs;
      if (idle > 0) {
        const wm = s.maxEventUs + idle - lateness;
        if (wm > s.watermarkUs) s.watermarkUs = wm;
      }
      if (s.watermarkUs >= s.nextCloseUs) this.#closeDue(s);
    }
    return this.#takeOutput();
  }

  /** Drops all state of these symbols, including their closed but undrained bars and alerts. */
  forget(symbols: Iterable<string>): void {
    const dropped = new Set<string>();
    for (const symbol of symbols) {
      const s = this.#symbols.get(symbol);
      if (s === undefined) continue;
      for (const track of s.tracks) this.#openWindows -= track.windows.length;
      this.#symbols.delete(symbol);
      dropped.add(symbol);
    }
    if (dropped.size === 0) return;
    this.#bars = this.#bars.filter((b) => !dropped.has(b.symbol));
    this.#alerts = this.#alerts.filter((a) => !dropped.has(a.symbol));
  }

  /** Closes every open window now (see the top-of-file notes) and returns all pending output. */
  flushAll(): CoreOutput {
    for (const s of this.#symbols.values()) {
      let lastEnd = Number.NEGATIVE_INFINITY;
      for (const track of s.tracks) {
        const w = track.windows[track.windows.length - 1];
        if (w !== undefined && w.endUs > lastEnd) lastEnd = w.endUs;
      }
      if (lastEnd > s.watermarkUs) s.watermarkUs = lastEnd;
      if (s.watermarkUs >= s.nextCloseUs) this.#closeDue(s);
    }
    return this.#takeOutput();
  }

  get stats(): CoreStats {
    const lateTrades: Record<string, number> = {};
    for (const spec of this.#intervalSpecs) lateTrades[spec.interval as string] = spec.late;
    return {
      openWindows: this.#openWindows,
      symbols: this.#symbols.size,
      lateTrades,
      lateAlertTrades: this.#alertSpec.late,
    };
  }

  #opened(s: SymbolState, end: number): void {
    this.#openWindows++;
    if (end < s.nextCloseUs) s.nextCloseUs = end;
  }

  /** A trade for an older, still open window: find it or insert a new one in start order. */
  #addOutOfOrder(
    s: SymbolState,
    windows: Window[],
    start: number,
    end: number,
    price: number,
    size: number,
    eventUs: number,
  ): void {
    let i = windows.length - 1;
    for (; i >= 0; i--) {
      const w = windows[i];
      if (w === undefined || w.startUs < start) break;
      if (w.startUs === start) {
        w.add(price, size, eventUs);
        return;
      }
    }
    windows.splice(i + 1, 0, new Window(start, end, price, size, eventUs));
    this.#opened(s, end);
  }

  /** Closes every window with end <= watermark, in (end, track order), then recomputes nextCloseUs. */
  #closeDue(s: SymbolState): void {
    const watermark = s.watermarkUs;
    for (;;) {
      let due: TrackState | undefined;
      let dueEnd = watermark;
      for (const track of s.tracks) {
        const w = track.windows[0];
        if (w !== undefined && (w.endUs < dueEnd || (due === undefined && w.endUs === dueEnd))) {
          due = track;
          dueEnd = w.endUs;
        }
      }
      if (due === undefined) break;
      const w = due.windows.shift() as Window;
      this.#openWindows--;
      this.#emit(s.symbol, due.spec, w);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const track of s.tracks) {
      const w = track.windows[0];
      if (w !== undefined && w.endUs < next) next = w.endUs;
    }
    s.nextCloseUs = next;
  }

  #emit(symbol: string, spec: TrackSpec, w: Window): void {
    if (spec.interval !== undefined) {
      const vwap = w.notional / w.volume;
      this.#bars.push({
        symbol,
        interval: spec.interval,
        startUs: w.startUs,
        open: w.open,
        high: w.high,
        low: w.low,
        close: w.close,
        volume: w.volume,
        vwap: Math.min(Math.max(vwap, w.low), w.high),
        tradeCount: w.count,
      });
      return;
    }
    const changePct = (w.close / w.open - 1) * 100;
    if (Math.abs(changePct) > this.#thresholdPct) {
      this.#alerts.push({
        symbol,
        windowStartUs: w.startUs,
        windowEndUs: w.endUs,
        open: w.open,
        close: w.close,
        changePct,
        thresholdPct: this.#thresholdPct,
        direction: changePct > 0 ? 'UP' : 'DOWN',
      });
    }
  }

  #takeOutput(): CoreOutput {
    const out = { bars: this.#bars, alerts: this.#alerts };
    this.#bars = [];
    this.#alerts = [];
    return out;
  }
}
