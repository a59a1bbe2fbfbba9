import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AggregatorCoreConfig,
  DEFAULT_CORE_CONFIG,
  MarketAggregator,
  validateCoreConfig,
  windowStartUs,
} from '../src/core/aggregator.ts';
import type { Bar, Trade } from '../src/core/types.ts';

const S = 1_000_000; // one second in µs
const T0 = 1_767_364_200_000_000; // a minute boundary (2026-01-02T14:30:00Z)
const N = 5_000_000_000_000; // wall clock origin, unrelated to event time on purpose

let nextId = 0;
function trade(eventTimeUs: number, price = 100, size = 1, symbol = 'AAPL'): Trade {
  return {
    symbol,
    price,
    size,
    eventTimeUs,
    ingestTimeUs: 0,
    source: 'synthetic',
    tradeId: String(nextId++),
  };
}

function withConfig(overrides: Partial<AggregatorCoreConfig>): MarketAggregator {
  return new MarketAggregator({ ...DEFAULT_CORE_CONFIG, ...overrides });
}

const only = (bars: Bar[], interval: Bar['interval']) => bars.filter((b) => b.interval === interval);

describe('windows and bars', () => {
  it('aligns windows to the Unix epoch, exactly, at realistic timestamps', () => {
    expect(windowStartUs(T0 + 59 * S + 999_999, S)).toBe(T0 + 59 * S);
    expect(windowStartUs(T0 + 59 * S + 999_999, 60 * S)).toBe(T0);
    expect(windowStartUs(-1, S)).toBe(-S);
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 59 * S + 999_999), N);
    expect(core.flushAll().bars.map((b) => [b.interval, b.startUs])).toEqual([
      ['1s', T0 + 59 * S],
      ['1m', T0],
    ]);
  });

  it('computes OHLC by event time, volume, VWAP and trade count', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 300_000, 12, 3), N);
    core.add(trade(T0 + 100_000, 10, 1), N); // earlier by event time, arrives later: the open
    core.add(trade(T0 + 900_000, 11, 4), N); // the close
    core.add(trade(T0 + 500_000, 9.5, 0.5), N);
    const [bar] = only(core.flushAll().bars, '1s');
    expect(bar).toEqual({
      symbol: 'AAPL',
      interval: '1s',
      startUs: T0,
      open: 10,
      high: 12,
      low: 9.5,
      close: 11,
      volume: 8.5,
      vwap: (10 + 36 + 44 + 4.75) / 8.5,
      tradeCount: 4,
    });
  });

  it('breaks event-time ties by arrival: open is the first to arrive, close the last', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    for (const price of [10, 11, 12]) core.add(trade(T0 + 500_000, price), N);
    core.add(trade(T0 + 700_000, 13), N);
    core.add(trade(T0 + 700_000, 14), N);
    core.add(trade(T0 + 500_000, 15), N); // ties with the open but arrives later: not the open
    const [bar] = only(core.flushAll().bars, '1s');
    expect(bar).toMatchObject({ open: 10, close: 14, high: 15, low: 10, tradeCount: 6 });
  });

  it('closes a bar exactly when the watermark reaches its end', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG); // lateness 1 s
    core.add(trade(T0 + 500_000), N);
    core.add(trade(T0 + 2 * S - 1), N); // watermark = T0 + 1 s - 1 µs
    expect(core.drain(N).bars).toEqual([]);
    core.add(trade(T0 + 2 * S), N); // watermark = T0 + 1 s = end of [T0, T0 + 1 s)
    const { bars } = core.drain(N);
    expect(bars.map((b) => [b.interval, b.startUs, b.tradeCount])).toEqual([['1s', T0, 1]]);
  });

  it('advances an idle symbol by wall-clock time so its last bars close', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 300_000, 100), N);
    expect(core.drain(N + 1_700_000 - 1).bars).toEqual([]); // watermark one µs short of T0 + 1 s
    expect(core.drain(N + 1_700_000).bars.map((b) => [b.interval, b.startUs])).toEqual([['1s', T0]]);
    expect(core.drain(N + 60_700_000 - 1).bars).toEqual([]);
    expect(core.drain(N + 60_700_000).bars.map((b) => [b.interval, b.startUs])).toEqual([['1m', T0]]);
    expect(core.stats.openWindows).toBe(0);
    expect(core.stats.symbols).toBe(1); // kept, so its watermark still classifies late trades
  });

  it('excludes a late trade from closed windows, counts and reports it', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    expect(core.add(trade(T0 + 100_000, 10), N)).toEqual({ late: false });
    core.add(trade(T0 + 3_500_000, 20), N); // watermark T0 + 2.5 s: [T0, T0 + 1 s) closes
    expect(only(core.drain(N).bars, '1s')).toMatchObject([{ startUs: T0, tradeCount: 1, close: 10 }]);

    expect(core.add(trade(T0 + 900_000, 30), N)).toEqual({ late: true }); // late for 1 s, not for 1 min
    expect(core.add(trade(T0 + 1_200_000, 40), N)).toEqual({ late: true }); // window closed with no bar
    expect(core.stats.lateTrades).toEqual({ '1s': 2, '1m': 0 });
    expect(core.stats.lateAlertTrades).toBe(0);

    const { bars } = core.flushAll();
    expect(only(bars, '1s').map((b) => b.startUs)).toEqual([T0 + 3 * S]); // no second bar for T0 or T0 + 1 s
    expect(only(bars, '1m')).toMatchObject([{ startUs: T0, tradeCount: 4, high: 40 }]);
  });

  it('never moves the watermark backwards after an idle advance', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 100_000), N);
    expect(core.drain(N + 5 * S).bars).toHaveLength(1); // idle: watermark T0 + 4.1 s
    // The next trade's event time is far behind the advanced clock: its window stays closed.
    expect(core.add(trade(T0 + 2_500_000), N + 5 * S)).toEqual({ late: true });
    expect(core.add(trade(T0 + 5_200_000), N + 5 * S)).toEqual({ late: false });
  });

  it('does not let a wall clock stepping backwards lengthen a later idle advance', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 200_000), N + 5 * S);
    core.add(trade(T0 + 300_000), N); // the clock stepped back 5 s
    expect(core.drain(N + 5 * S + 1_700_000 - 1).bars).toEqual([]);
    expect(core.drain(N + 5 * S + 1_700_000).bars).toHaveLength(1);
  });

  it('orders a symbol by window end, the 1 s bar before the 1 min bar on equal ends', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 59_500_000), N);
    core.add(trade(T0 + 60_500_000), N);
    const { bars } = core.drain(N + 200 * S);
    expect(bars.map((b) => [b.interval, b.startUs])).toEqual([
      ['1s', T0 + 59 * S],
      ['1m', T0],
      ['1s', T0 + 60 * S],
      ['1m', T0 + 60 * S],
    ]);
  });

  it('keeps out-of-order windows in start order', () => {
    const core = withConfig({ allowedLatenessUs: 5 * S });
    for (const e of [3.5, 1.5, 2.5, 0.5, 2.7]) core.add(trade(T0 + e * S, e), N);
    const bars = only(core.drain(N + 100 * S).bars, '1s');
    expect(bars.map((b) => [b.startUs - T0, b.tradeCount])).toEqual([
      [0, 1],
      [S, 1],
      [2 * S, 2],
      [3 * S, 1],
    ]);
  });

  it('keeps state bounded: only open windows are held', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    let maxOpen = 0;
    let bars = 0;
    for (let i = 0; i < 100_000; i++) {
      const e = T0 + i * 7_000; // 700 s of trades, slightly out of order
      core.add(trade(i % 3 === 0 ? e - 300_000 : e), N + i * 7_000);
      maxOpen = Math.max(maxOpen, core.stats.openWindows);
      if (i % 1000 === 0) bars += core.drain(N + i * 7_000).bars.length;
    }
    // 1 s: the current window and up to two within lateness; 1 min and alert: at most two each.
    expect(maxOpen).toBeLessThanOrEqual(7);
    expect(bars).toBeGreaterThan(650);
  });

  it('produces the same bars and late counts whatever the drain cadence', () => {
    const arrivals = fc.array(
      fc.record({
        sym: fc.constantFrom('A', 'B'),
        dNow: fc.integer({ min: 0, max: 400_000 }),
        delay: fc.integer({ min: 0, max: 2_500_000 }),
        price: fc.integer({ min: 90, max: 110 }),
      }),
      { maxLength: 200, size: 'max' },
    );
    fc.assert(
      fc.property(arrivals, fc.integer({ min: 1, max: 10 }), (list, every) => {
        const eager = new MarketAggregator(DEFAULT_CORE_CONFIG);
        const lazy = new MarketAggregator(DEFAULT_CORE_CONFIG);
        const eagerBars: Bar[] = [];
        let now = N;
        list.forEach((a, i) => {
          now += a.dNow;
          const t = trade(T0 + (now - N) - a.delay, a.price, 1, a.sym);
          expect(eager.add(t, now)).toEqual(lazy.add(t, now));
          if (i % every === 0) eagerBars.push(...eager.drain(now).bars);
        });
        eagerBars.push(...eager.drain(now + 200 * S).bars);
        const lazyBars = lazy.drain(now + 200 * S).bars;
        const key = (b: Bar) => `${b.symbol}|${b.interval}|${b.startUs}`;
        const sort = (bars: Bar[]) => [...bars].sort((x, y) => (key(x) < key(y) ? -1 : 1));
        expect(sort(eagerBars)).toEqual(sort(lazyBars));
        expect(eager.stats).toEqual(lazy.stats);
      }),
      { numRuns: 200 },
    );
  }, 30_000);
});

describe('price alerts', () => {
  function alertsFor(prices: Array<[eventUs: number, price: number]>, thresholdPct: number) {
    const core = withConfig({ alertThresholdPct: thresholdPct });
    for (const [e, price] of prices) core.add(trade(e, price), N);
    return core.flushAll().alerts;
  }

  it('does not alert when |changePct| equals the threshold', () => {
    expect(
      alertsFor(
        [
          [T0, 1],
          [T0 + 5 * S, 1.5],
        ],
        50,
      ),
    ).toEqual([]); // exactly +50 %
    expect(
      alertsFor(
        [
          [T0, 2],
          [T0 + 5 * S, 1],
        ],
        50,
      ),
    ).toEqual([]); // exactly -50 %
  });

  it('alerts UP and DOWN just beyond the threshold, with the window and inputs', () => {
    expect(
      alertsFor(
        [
          [T0, 1],
          [T0 + 5 * S, 1.5000001],
        ],
        50,
      ),
    ).toEqual([
      {
        symbol: 'AAPL',
        windowStartUs: T0,
        windowEndUs: T0 + 60 * S,
        open: 1,
        close: 1.5000001,
        changePct: (1.5000001 / 1 - 1) * 100,
        thresholdPct: 50,
        direction: 'UP',
      },
    ]);
    expect(
      alertsFor(
        [
          [T0, 2],
          [T0 + 5 * S, 0.99],
        ],
        50,
      ),
    ).toMatchObject([{ direction: 'DOWN', changePct: -50.5 }]);
  });

  it('uses the default 0.5 % threshold on the 60 s window, open and close by event time', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 50 * S, 100.6), N); // the close, arriving first
    core.add(trade(T0 + 10 * S, 100), N); // the open
    core.add(trade(T0 + 60 * S, 200), N); // next window
    core.add(trade(T0 + 61 * S, 199.5), N); // closes the first window's alert (watermark T0 + 60 s)
    const [alert, ...rest] = core.drain(N).alerts;
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      windowStartUs: T0,
      open: 100,
      close: 100.6,
      thresholdPct: 0.5,
      direction: 'UP',
    });
    expect(alert?.changePct).toBeCloseTo(0.6, 12);
    expect(core.flushAll().alerts).toEqual([]); // -0.25 % is within 0.5 %
  });

  it('uses its own window length, independent of the bar intervals', () => {
    const core = withConfig({ alertWindowUs: 10 * S });
    core.add(trade(T0 + 1 * S, 100), N);
    core.add(trade(T0 + 9 * S, 110), N);
    core.add(trade(T0 + 12 * S, 100), N);
    core.add(trade(T0 + 19 * S, 90), N);
    const { alerts, bars } = core.flushAll();
    expect(alerts.map((a) => [a.windowStartUs - T0, a.windowEndUs - T0, a.direction])).toEqual([
      [0, 10 * S, 'UP'],
      [10 * S, 20 * S, 'DOWN'],
    ]);
    expect(only(bars, '1m')).toHaveLength(1);
  });
});

describe('forget and flushAll', () => {
  it('forget drops every state of those symbols, including undrained output', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    for (const symbol of ['AAA', 'BBB', 'CCC']) {
      core.add(trade(T0 + 100_000, 10, 1, symbol), N);
      core.add(trade(T0 + 3 * S, 20, 1, symbol), N); // closes the first 1 s bar (pending, not drained)
    }
    expect(core.stats).toMatchObject({ symbols: 3, openWindows: 9 });
    core.forget(['AAA', 'CCC', 'NOPE']);
    expect(core.stats).toMatchObject({ symbols: 1, openWindows: 3 });
    expect(core.drain(N).bars.map((b) => b.symbol)).toEqual(['BBB']);
    // A rebuilt AAA starts from scratch: its old window is not late any more.
    expect(core.add(trade(T0 + 100_000, 10, 1, 'AAA'), N)).toEqual({ late: false });
  });

  it('flushAll closes every open window and later trades into them are late', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    core.add(trade(T0 + 100_000, 10, 1, 'AAA'), N);
    core.add(trade(T0 + 30 * S, 12, 1, 'BBB'), N);
    const { bars, alerts } = core.flushAll();
    expect(bars.map((b) => [b.symbol, b.interval])).toEqual([
      ['AAA', '1s'],
      ['AAA', '1m'],
      ['BBB', '1s'],
      ['BBB', '1m'],
    ]);
    expect(alerts).toEqual([]);
    expect(core.stats.openWindows).toBe(0);
    expect(core.add(trade(T0 + 200_000, 11, 1, 'AAA'), N)).toEqual({ late: true });
    expect(core.flushAll().bars).toEqual([]);
    expect(core.add(trade(T0 + 60 * S, 11, 1, 'AAA'), N)).toEqual({ late: false });
  });
});

describe('configuration and input validation', () => {
  it('accepts the defaults and uses them when no config is given', () => {
    expect(() => validateCoreConfig(DEFAULT_CORE_CONFIG)).not.toThrow();
    expect(new MarketAggregator().stats.lateTrades).toEqual({ '1s': 0, '1m': 0 });
  });

  const bad: Array<[string, Partial<AggregatorCoreConfig>, RegExp]> = [
    ['no intervals', { intervals: [] }, /intervals must be a non-empty array/],
    [
      'zero length',
      { intervals: [{ name: '1s', lengthUs: 0 }] },
      /intervals\[0\]\.lengthUs must be a positive integer/,
    ],
    ['fractional length', { intervals: [{ name: '1m', lengthUs: 1.5 }] }, /intervals\[0\]\.lengthUs/],
    [
      'duplicate name',
      {
        intervals: [
          { name: '1s', lengthUs: S },
          { name: '1s', lengthUs: 2 * S },
        ],
      },
      /intervals\[1\]\.name is duplicated/,
    ],
    [
      'unknown name',
      { intervals: [{ name: '5m' as '1m', lengthUs: S }] },
      /intervals\[0\]\.name must be one of/,
    ],
    ['negative lateness', { allowedLatenessUs: -1 }, /allowedLatenessUs must be an integer >= 0/],
    ['NaN lateness', { allowedLatenessUs: Number.NaN }, /allowedLatenessUs.*\(got NaN\)/],
    ['zero alert window', { alertWindowUs: 0 }, /alertWindowUs must be a positive integer/],
    ['zero threshold', { alertThresholdPct: 0 }, /alertThresholdPct must be a finite number > 0/],
    ['infinite threshold', { alertThresholdPct: Number.POSITIVE_INFINITY }, /alertThresholdPct/],
  ];
  it.each(bad)('rejects %s', (_name, overrides, message) => {
    expect(() => withConfig(overrides)).toThrow(message);
  });

  it('rejects trades that validation should have stopped', () => {
    const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
    expect(() => core.add(trade(T0, Number.NaN), N)).toThrow(RangeError);
    expect(() => core.add(trade(T0, 100, 0), N)).toThrow(RangeError);
    expect(() => core.add(trade(T0, Number.POSITIVE_INFINITY), N)).toThrow(RangeError);
    expect(() => core.add(trade(T0 + 0.5), N)).toThrow(RangeError);
    expect(core.stats).toMatchObject({ symbols: 0, openWindows: 0 });
  });
});
