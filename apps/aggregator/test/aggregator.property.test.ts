// Property test: MarketAggregator against a deliberately naive reference. The reference keeps every
// on-time trade, recomputes the watermark with the plain formula at each add/drain, and builds each
// bar from scratch by sorting its trades; it shares no code with the core (windows are aligned with
// BigInt floor division, aggregates are recomputed, no incremental state, no close queue).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AggregatorCoreConfig, DEFAULT_CORE_CONFIG, MarketAggregator } from '../src/core/aggregator.ts';
import type { Bar, PriceAlert, Trade } from '../src/core/types.ts';

// ---------------------------------------------------------------------------------------------
// Reference model

interface RefTrade {
  trade: Trade;
  seq: number;
}

interface RefSymbol {
  maxEvent: number;
  lastArrival: number;
  watermark: number;
  /** Per track (intervals in config order, then the alert window): accepted, not yet emitted. */
  accepted: RefTrade[][];
}

interface RefTrack {
  lengthUs: number;
  name: '1s' | '1m' | undefined;
}

function refStart(eventUs: number, lengthUs: number): number {
  const e = BigInt(eventUs);
  const l = BigInt(lengthUs);
  let q = e / l;
  if (e % l !== 0n && e < 0n) q -= 1n;
  return Number(q * l);
}

class Reference {
  readonly tracks: RefTrack[];
  readonly lateness: number;
  readonly threshold: number;
  readonly symbols = new Map<string, RefSymbol>();
  readonly late: number[];
  seq = 0;

  constructor(config: AggregatorCoreConfig) {
    this.tracks = [
      ...config.intervals.map((i) => ({ lengthUs: i.lengthUs, name: i.name })),
      { lengthUs: config.alertWindowUs, name: undefined },
    ];
    this.lateness = config.allowedLatenessUs;
    this.threshold = config.alertThresholdPct;
    this.late = this.tracks.map(() => 0);
  }

  #idle(s: RefSymbol, now: number): void {
    s.watermark = Math.max(s.watermark, s.maxEvent + Math.max(0, now - s.lastArrival) - this.lateness);
  }

  add(trade: Trade, now: number): boolean {
    let s = this.symbols.get(trade.symbol);
    if (s === undefined) {
      s = {
        maxEvent: -Infinity,
        lastArrival: -Infinity,
        watermark: -Infinity,
        accepted: this.tracks.map(() => []),
      };
      this.symbols.set(trade.symbol, s);
    } else {
      this.#idle(s, now);
    }
    let lateForInterval = false;
    this.tracks.forEach((track, t) => {
      const end = refStart(trade.eventTimeUs, track.lengthUs) + track.lengthUs;
      if (end <= (s as RefSymbol).watermark) {
        this.late[t] = (this.late[t] ?? 0) + 1;
        if (track.name !== undefined) lateForInterval = true;
      } else {
        (s as RefSymbol).accepted[t]?.push({ trade, seq: this.seq++ });
      }
    });
    s.maxEvent = Math.max(s.maxEvent, trade.eventTimeUs);
    s.lastArrival = Math.max(s.lastArrival, now);
    s.watermark = Math.max(s.watermark, s.maxEvent - this.lateness);
    return lateForInterval;
  }

  drain(now: number): { bars: Bar[]; alerts: PriceAlert[] } {
    for (const s of this.symbols.values()) this.#idle(s, now);
    return this.#emitClosed();
  }

  flush(): { bars: Bar[]; alerts: PriceAlert[] } {
    for (const s of this.symbols.values()) {
      this.tracks.forEach((track, t) => {
        for (const r of s.accepted[t] ?? []) {
          s.watermark = Math.max(s.watermark, refStart(r.trade.eventTimeUs, track.lengthUs) + track.lengthUs);
        }
      });
    }
    return this.#emitClosed();
  }

  forget(symbols: string[]): void {
    for (const symbol of symbols) this.symbols.delete(symbol);
  }

  openWindows(): number {
    let n = 0;
    for (const s of this.symbols.values()) {
      this.tracks.forEach((track, t) => {
        const starts = new Set<number>();
        for (const r of s.accepted[t] ?? []) {
          const start = refStart(r.trade.eventTimeUs, track.lengthUs);
          if (start + track.lengthUs > s.watermark) starts.add(start);
        }
        n += starts.size;
      });
    }
    return n;
  }

  #emitClosed(): { bars: Bar[]; alerts: PriceAlert[] } {
    const bars: Bar[] = [];
    const alerts: PriceAlert[] = [];
    for (const [symbol, s] of this.symbols) {
      this.tracks.forEach((track, t) => {
        const groups = new Map<number, RefTrade[]>();
        const keep: RefTrade[] = [];
        for (const r of s.accepted[t] ?? []) {
          const start = refStart(r.trade.eventTimeUs, track.lengthUs);
          if (start + track.lengthUs <= s.watermark) {
            const g = groups.get(start) ?? [];
            g.push(r);
            groups.set(start, g);
          } else {
            keep.push(r);
          }
        }
        s.accepted[t] = keep;
        for (const [start, group] of groups) {
          const sorted = [...group].sort(
            (a, b) => a.trade.eventTimeUs - b.trade.eventTimeUs || a.seq - b.seq,
          );
          const first = sorted[0] as RefTrade;
          const lastT = sorted[sorted.length - 1] as RefTrade;
          const open = first.trade.price;
          const close = lastT.trade.price;
          if (track.name !== undefined) {
            const volume = sorted.reduce((acc, r) => acc + r.trade.size, 0);
            const notional = sorted.reduce((acc, r) => acc + r.trade.price * r.trade.size, 0);
            bars.push({
              symbol,
              interval: track.name,
              startUs: start,
              open,
              high: Math.max(...sorted.map((r) => r.trade.price)),
              low: Math.min(...sorted.map((r) => r.trade.price)),
              close,
              volume,
              vwap: notional / volume,
              tradeCount: sorted.length,
            });
          } else {
            const changePct = (close / open - 1) * 100;
            if (Math.abs(changePct) > this.threshold) {
              alerts.push({
                symbol,
                windowStartUs: start,
                windowEndUs: start + track.lengthUs,
                open,
                close,
                changePct,
                thresholdPct: this.threshold,
                direction: changePct > 0 ? 'UP' : 'DOWN',
              });
            }
          }
        }
      });
    }
    return { bars, alerts };
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison helpers

function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

const barKey = (b: Bar): string => `${b.symbol}|${b.interval}|${b.startUs}`;
const alertKey = (a: PriceAlert): string => `${a.symbol}|${a.windowStartUs}`;
const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

function expectSameBars(actual: Bar[], expected: Bar[]): void {
  const a = [...actual].sort(byKey(barKey));
  const e = [...expected].sort(byKey(barKey));
  expect(a.map(barKey)).toEqual(e.map(barKey));
  a.forEach((bar, i) => {
    const ref = e[i] as Bar;
    const { volume, vwap, ...exact } = bar;
    const { volume: refVolume, vwap: refVwap, ...refExact } = ref;
    expect(exact).toEqual(refExact);
    if (!closeTo(volume, refVolume) || !closeTo(vwap, refVwap)) {
      expect({ volume, vwap }).toEqual({ volume: refVolume, vwap: refVwap });
    }
    expect(bar.low <= bar.vwap && bar.vwap <= bar.high).toBe(true);
  });
}

function expectSameAlerts(actual: PriceAlert[], expected: PriceAlert[]): void {
  expect([...actual].sort(byKey(alertKey))).toEqual([...expected].sort(byKey(alertKey)));
}

// ---------------------------------------------------------------------------------------------
// Generated scenarios

const SYMBOLS = ['AAA', 'BBB', 'CCC'];

type Op =
  | { kind: 'trade'; sym: number; dNow: number; delay: number; price: number; size: number }
  | { kind: 'drain'; dNow: number }
  | { kind: 'flush' }
  | { kind: 'forget'; syms: number[] };

/**
 * Trades happen at wall time and arrive after a random transit delay: event tick = now tick - delay.
 * Varying delays give out-of-order arrivals, long ones late trades, dNow = 0 with equal delays ties,
 * and long drain steps idle gaps. Ticks are multiplied by the scenario's unit (µs per tick).
 */
function opArb(maxStep: number, maxDelay: number, maxIdle: number): fc.Arbitrary<Op> {
  const trade = fc.record({
    kind: fc.constant('trade' as const),
    sym: fc.integer({ min: 0, max: SYMBOLS.length - 1 }),
    dNow: fc.oneof(
      { arbitrary: fc.constant(0), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: maxStep }), weight: 3 },
    ),
    delay: fc.oneof(
      { arbitrary: fc.constant(0), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: maxDelay }), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: maxDelay * 5 }), weight: 1 },
    ),
    price: fc.integer({ min: -40, max: 40 }).map((d) => 100 + d / 4),
    size: fc.integer({ min: 1, max: 1000 }).map((x) => x / 100),
  });
  const drain = fc.record({
    kind: fc.constant('drain' as const),
    dNow: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: maxStep }), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: maxIdle }), weight: 1 },
    ),
  });
  const flush = fc.constant({ kind: 'flush' as const });
  const forget = fc.record({
    kind: fc.constant('forget' as const),
    syms: fc.uniqueArray(fc.integer({ min: 0, max: SYMBOLS.length - 1 }), { maxLength: 2 }),
  });
  return fc.oneof(
    { arbitrary: trade, weight: 60 },
    { arbitrary: drain, weight: 12 },
    { arbitrary: flush, weight: 1 },
    { arbitrary: forget, weight: 1 },
  );
}

interface Scenario {
  config: AggregatorCoreConfig;
  unit: number;
  base: number;
  ops: Op[];
}

function run({ config, unit, base, ops }: Scenario): void {
  const core = new MarketAggregator(config);
  const ref = new Reference(config);
  const lengthOf = new Map(config.intervals.map((i, idx) => [i.name, { len: i.lengthUs, idx }]));
  let nowTick = 0;
  // Wall clock and event time share the tick axis but not the origin: only differences matter.
  const nowOf = (tick: number) => base + 777_777 * unit + tick * unit;
  let now = nowOf(nowTick);
  let tradeId = 0;
  // Per-symbol output order: (window end, interval index) strictly increasing across drains.
  const lastBarOrder = new Map<string, [number, number]>();
  const lastAlertStart = new Map<string, number>();

  const check = (
    out: { bars: Bar[]; alerts: PriceAlert[] },
    expected: { bars: Bar[]; alerts: PriceAlert[] },
  ) => {
    expectSameBars(out.bars, expected.bars);
    expectSameAlerts(out.alerts, expected.alerts);
    for (const bar of out.bars) {
      const { len, idx } = lengthOf.get(bar.interval) as { len: number; idx: number };
      const order: [number, number] = [bar.startUs + len, idx];
      const prev = lastBarOrder.get(bar.symbol);
      if (prev !== undefined) {
        expect(order[0] > prev[0] || (order[0] === prev[0] && order[1] > prev[1])).toBe(true);
      }
      lastBarOrder.set(bar.symbol, order);
    }
    for (const alert of out.alerts) {
      const prev = lastAlertStart.get(alert.symbol);
      if (prev !== undefined) expect(alert.windowStartUs).toBeGreaterThan(prev);
      lastAlertStart.set(alert.symbol, alert.windowStartUs);
    }
    expect(core.stats.openWindows).toBe(ref.openWindows());
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'trade': {
        const symbol = SYMBOLS[op.sym] as string;
        nowTick += op.dNow;
        now = nowOf(nowTick);
        const trade: Trade = {
          symbol,
          price: op.price,
          size: op.size,
          eventTimeUs: base + (nowTick - op.delay) * unit,
          ingestTimeUs: now,
          source: 'synthetic',
          tradeId: String(tradeId++),
        };
        expect(core.add(trade, now).late).toBe(ref.add(trade, now));
        // add() closes what the trade's own watermark advance makes due, without waiting for drain().
        expect(core.stats.openWindows).toBe(ref.openWindows());
        break;
      }
      case 'drain':
        nowTick += op.dNow;
        now = nowOf(nowTick);
        check(core.drain(now), ref.drain(now));
        break;
      case 'flush':
        check(core.flushAll(), ref.flush());
        break;
      case 'forget': {
        const symbols = op.syms.map((i) => SYMBOLS[i] as string);
        core.forget(symbols);
        ref.forget(symbols);
        for (const s of symbols) {
          lastBarOrder.delete(s);
          lastAlertStart.delete(s);
        }
        break;
      }
    }
  }
  // A long idle period closes everything that is still open.
  const longest = Math.max(config.alertWindowUs, ...config.intervals.map((i) => i.lengthUs));
  now += 2 * (longest + config.allowedLatenessUs) + unit;
  check(core.drain(now), ref.drain(now));
  expect(core.stats.openWindows).toBe(0);
  expect(core.stats.symbols).toBe(ref.symbols.size);
  const lateTrades = Object.fromEntries(config.intervals.map((i, idx) => [i.name, ref.late[idx]]));
  expect(core.stats.lateTrades).toEqual(lateTrades);
  expect(core.stats.lateAlertTrades).toBe(ref.late[config.intervals.length]);
}

const BIG_BASE = 1_767_364_200_123_456; // a realistic epoch-µs instant, not aligned to anything

// Each case runs a few hundred scenarios of up to 250 operations: seconds, hence the explicit timeouts.
describe('MarketAggregator matches the naive reference', () => {
  it('on small, odd window lengths (many closes, ties, late trades)', () => {
    const scenario = fc
      .record({
        unit: fc.constantFrom(1, 7, 1000),
        base: fc.constantFrom(0, BIG_BASE),
        a: fc.integer({ min: 1, max: 10 }),
        b: fc.integer({ min: 1, max: 8 }),
        lateness: fc.integer({ min: 0, max: 15 }),
        alert: fc.integer({ min: 1, max: 40 }),
        threshold: fc.constantFrom(0.5, 1, 2.5, 10),
        twoIntervals: fc.boolean(),
        ops: fc.array(opArb(3, 8, 80), { maxLength: 160, size: 'max' }),
      })
      .map(
        ({ unit, base, a, b, lateness, alert, threshold, twoIntervals, ops }): Scenario => ({
          unit,
          base,
          ops,
          config: {
            intervals: twoIntervals
              ? [
                  { name: '1s', lengthUs: a * unit },
                  { name: '1m', lengthUs: a * b * unit },
                ]
              : [{ name: '1m', lengthUs: a * b * unit }],
            allowedLatenessUs: lateness * unit,
            alertWindowUs: alert * unit,
            alertThresholdPct: threshold,
          },
        }),
      );
    fc.assert(fc.property(scenario, run), { numRuns: 400 });
  }, 60_000);

  it('with the default config and millisecond ticks at realistic timestamps', () => {
    const scenario = fc
      .array(opArb(150, 800, 90_000), { maxLength: 250, size: 'max' })
      .map((ops): Scenario => ({ config: DEFAULT_CORE_CONFIG, unit: 1000, base: BIG_BASE, ops }));
    fc.assert(fc.property(scenario, run), { numRuns: 150 });
  }, 60_000);
});
