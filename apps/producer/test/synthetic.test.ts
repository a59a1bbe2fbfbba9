import { type Trade, validateTrade } from '@tickflow/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYMBOLS, profileFor, SyntheticSource } from '../src/sources/index.ts';

const T0 = 1_767_364_200_000_000;

function run(source: SyntheticSource, n: number, stepUs = 1_000): Trade[] {
  return Array.from({ length: n }, (_, i) => source.next(T0 + i * stepUs));
}

function bySymbol(trades: Trade[]): Map<string, Trade[]> {
  const map = new Map<string, Trade[]>();
  for (const t of trades) {
    const list = map.get(t.symbol) ?? [];
    list.push(t);
    map.set(t.symbol, list);
  }
  return map;
}

function variance(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
}

describe('SyntheticSource', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = run(new SyntheticSource({ seed: 42 }), 2_000);
    const b = run(new SyntheticSource({ seed: 42 }), 2_000);
    const c = run(new SyntheticSource({ seed: 43 }), 2_000);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('has the default universe of US equities and crypto pairs', () => {
    expect(DEFAULT_SYMBOLS).toEqual(
      expect.arrayContaining([
        'AAPL',
        'MSFT',
        'NVDA',
        'TSLA',
        'JPM',
        'BTCUSDT',
        'ETHUSDT',
        'SOLUSDT',
        'BNBUSDT',
      ]),
    );
    expect(DEFAULT_SYMBOLS.length).toBeGreaterThanOrEqual(12);
    expect(profileFor('AAPL').kind).toBe('equity');
    expect(profileFor('BTCUSDT').kind).toBe('crypto');
  });

  it('produces only valid trades, on the tick grid, with realistic sizes', () => {
    const trades = run(new SyntheticSource({ seed: 7 }), 20_000, 5_000);
    const problems: string[] = [];
    let oddLots = 0;
    let roundLots = 0;
    const onGrid = (value: number, decimals: number) => {
      const units = value * 10 ** decimals;
      return Math.abs(units - Math.round(units)) < 1e-6;
    };
    for (const t of trades) {
      const p = profileFor(t.symbol);
      const invalid = validateTrade(t);
      if (invalid) problems.push(invalid.error);
      if (t.source !== 'synthetic') problems.push(`source ${t.source}`);
      if (!onGrid(t.price, p.priceDecimals)) problems.push(`${t.symbol} price ${t.price} off the tick grid`);
      if (!onGrid(t.size, p.sizeDecimals)) problems.push(`${t.symbol} size ${t.size} off the lot grid`);
      if (p.kind === 'equity') {
        if (t.size < 100) oddLots++;
        else if (t.size % 100 === 0) roundLots++;
        else problems.push(`${t.symbol} size ${t.size} is neither an odd lot nor a round lot`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(oddLots).toBeGreaterThan(trades.length * 0.15);
    expect(roundLots).toBeGreaterThan(trades.length * 0.15);
    expect(trades.some((t) => t.symbol === 'BTCUSDT' && !Number.isInteger(t.size))).toBe(true);
  });

  it('numbers trades per symbol with increasing ids, unique across restarts by default', () => {
    const trades = run(new SyntheticSource({ seed: 1 }), 5_000);
    for (const [symbol, list] of bySymbol(trades)) {
      const ids = list.map((t) => Number(t.tradeId));
      for (let i = 1; i < ids.length; i++) expect(ids[i], symbol).toBe((ids[i - 1] as number) + 1);
    }
    // A later run starts its ids past those of an earlier one.
    const earlier = Math.max(...trades.map((t) => Number(t.tradeId)));
    const later = new SyntheticSource({ seed: 1 }).next(T0 + 60_000_000);
    expect(Number(later.tradeId)).toBeGreaterThan(earlier);
    expect(new SyntheticSource({ tradeIdBase: 0 }).next(T0).tradeId).toBe('1');
  });

  it('draws symbols with Zipf-like popularity', () => {
    const counts = new Map<string, number>();
    for (const t of run(new SyntheticSource({ seed: 3 }), 40_000))
      counts.set(t.symbol, (counts.get(t.symbol) ?? 0) + 1);
    const c = (s: string) => counts.get(s) ?? 0;
    const [first, second, , , , sixth] = DEFAULT_SYMBOLS as string[];
    const last = DEFAULT_SYMBOLS[DEFAULT_SYMBOLS.length - 1] as string;
    expect(c(first as string)).toBeGreaterThan(1.6 * c(second as string));
    expect(c(second as string)).toBeGreaterThan(c(sixth as string));
    expect(c(sixth as string)).toBeGreaterThan(c(last));
    expect(c(last)).toBeGreaterThan(0);
  });

  it('follows a random walk: small steps, variance growing with the horizon', () => {
    const source = new SyntheticSource({ seed: 11, symbols: ['AAPL'], jumpsPerHour: 0 });
    const prices = run(source, 20_000, 1_000_000).map((t) => t.price);
    const logReturns = (lag: number) => prices.slice(lag).map((p, i) => Math.log(p / (prices[i] as number)));
    for (const r of logReturns(1)) expect(Math.abs(r)).toBeLessThan(0.005);
    // Independent noise around a level would give the same variance at every lag; a walk's grows linearly.
    const ratio = variance(logReturns(16)) / variance(logReturns(1));
    expect(ratio).toBeGreaterThan(10);
    expect(ratio).toBeLessThan(24);
    // And the level wanders far more than one step.
    expect(Math.max(...prices) - Math.min(...prices)).toBeGreaterThan(
      20 * Math.sqrt(variance(logReturns(1))) * 230,
    );
  });

  it('does not move while time stands still or runs backwards', () => {
    const source = new SyntheticSource({ seed: 5, symbols: ['MSFT'] });
    const a = source.next(T0 + 10_000_000);
    const b = source.next(T0 + 10_000_000);
    const c = source.next(T0 + 5_000_000);
    expect(b.price).toBe(a.price);
    expect(c.price).toBe(a.price);
    expect(validateTrade(c)).toBeNull();
  });

  it('accepts unknown symbols and rejects invalid ones', () => {
    const trades = run(new SyntheticSource({ seed: 9, symbols: ['ZZZZ', 'DOGEUSDT', 'BRK.B'] }), 3_000);
    for (const t of trades) expect(validateTrade(t)).toBeNull();
    expect(profileFor('DOGEUSDT').kind).toBe('crypto');
    expect(profileFor('ZZZZ')).toEqual(profileFor('ZZZZ'));
    expect(() => new SyntheticSource({ symbols: ['aapl'] })).toThrow(/invalid symbol "aapl"/);
    expect(() => new SyntheticSource({ symbols: [] })).toThrow(/at least one/);
    expect(() => new SyntheticSource({ symbols: ['AAPL', 'AAPL'] })).toThrow(/distinct/);
  });
});
