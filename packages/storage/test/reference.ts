// Test helpers: an independent TypeScript computation of bars_1m, and trade generators.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { BarRow, Trade } from '../src/types.ts';

export interface StoredTrade extends Trade {
  /** stored_at as read back from the database (the commit batch, part of the tie-break). */
  storedAtUs: number;
}

/** Byte order, as COLLATE "C" compares (the generators only use ASCII ids). */
function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The contract's order of events: event time, then arrival (ingest time, commit batch), then trade_id. */
export function compareArrival(a: StoredTrade, b: StoredTrade): number {
  return (
    a.eventTimeUs - b.eventTimeUs ||
    a.ingestTimeUs - b.ingestTimeUs ||
    a.storedAtUs - b.storedAtUs ||
    cmpText(a.tradeId, b.tradeId)
  );
}

const MINUTE_US = 60_000_000;

export function referenceBars(trades: readonly StoredTrade[]): BarRow[] {
  const groups = new Map<string, StoredTrade[]>();
  for (const t of trades) {
    const bucketUs = Math.floor(t.eventTimeUs / MINUTE_US) * MINUTE_US;
    const key = `${bucketUs}|${t.symbol}`;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }
  const bars: BarRow[] = [];
  for (const [key, g] of groups) {
    const [bucket, symbol] = key.split('|') as [string, string];
    const sorted = [...g].sort(compareArrival);
    const volume = g.reduce((s, t) => s + t.size, 0);
    bars.push({
      bucketUs: Number(bucket),
      symbol,
      open: (sorted[0] as StoredTrade).price,
      high: Math.max(...g.map((t) => t.price)),
      low: Math.min(...g.map((t) => t.price)),
      close: (sorted[sorted.length - 1] as StoredTrade).price,
      volume,
      vwap: g.reduce((s, t) => s + t.price * t.size, 0) / volume,
      tradeCount: g.length,
    });
  }
  return bars.sort((a, b) => a.bucketUs - b.bucketUs || cmpText(a.symbol, b.symbol));
}

/** Sums differ in the last bits with summation order: compare those with a relative tolerance. */
export function expectBarsEqual(actual: BarRow[], expected: BarRow[]): void {
  expect(actual.map((b) => [b.bucketUs, b.symbol, b.open, b.high, b.low, b.close, b.tradeCount])).toEqual(
    expected.map((b) => [b.bucketUs, b.symbol, b.open, b.high, b.low, b.close, b.tradeCount]),
  );
  actual.forEach((b, i) => {
    const e = expected[i] as BarRow;
    expect(Math.abs(b.volume - e.volume)).toBeLessThanOrEqual(1e-9 * e.volume);
    expect(Math.abs(b.vwap - e.vwap)).toBeLessThanOrEqual(1e-9 * e.vwap);
  });
}

const BASE_US = 1_767_364_200_000_000; // 2026-01-02T14:30:00Z

/**
 * Random trades over ~3 minutes for a few symbols, built to collide: event times on a coarse grid (many
 * equal times), ingest times often equal too, arbitrary order. Identities are unique; redeliveries are
 * added by the caller as exact copies.
 */
export function tradesArbitrary(symbols: readonly string[], maxLength = 200): fc.Arbitrary<Trade[]> {
  const one = fc.record({
    symbol: fc.constantFrom(...symbols),
    price: fc.double({ min: 1, max: 1000, noNaN: true }),
    size: fc.double({ min: 0.001, max: 500, noNaN: true }),
    eventTimeUs: fc.integer({ min: 0, max: 120 }).map((k) => BASE_US + k * 1_500_000 + (k % 7 === 0 ? 1 : 0)),
    ingestDelayUs: fc.integer({ min: 0, max: 3 }).map((k) => k * 1000),
    tradeId: fc.string({ unit: fc.constantFrom('a', 'b', 'C', '1', '-', '9'), minLength: 1, maxLength: 6 }),
  });
  return fc.array(one, { maxLength }).map((rows) => {
    const seen = new Set<string>();
    const out: Trade[] = [];
    for (const r of rows) {
      const key = `${r.symbol}|${r.tradeId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        symbol: r.symbol,
        price: r.price,
        size: r.size,
        eventTimeUs: r.eventTimeUs,
        ingestTimeUs: r.eventTimeUs + r.ingestDelayUs,
        source: 'synthetic',
        tradeId: r.tradeId,
      });
    }
    return out;
  });
}

let runSeq = 0;
/** Renames symbols with a prefix unique to this call, so property runs never see each other's rows. */
export function isolate(trades: readonly Trade[]): Trade[] {
  const prefix = `R${++runSeq}${process.pid}`;
  return trades.map((t) => ({ ...t, symbol: `${prefix}${t.symbol}` }));
}

export function makeTrades(
  n: number,
  opts: { symbol?: string; startUs?: number; idPrefix?: string } = {},
): Trade[] {
  const start = opts.startUs ?? BASE_US;
  return Array.from({ length: n }, (_, i) => ({
    symbol: opts.symbol ?? 'AAPL',
    price: 100 + (i % 97) / 10,
    size: 1 + (i % 5),
    eventTimeUs: start + i * 1_000 + 7,
    ingestTimeUs: start + i * 1_000 + 900,
    source: 'synthetic',
    tradeId: `${opts.idPrefix ?? 't'}-${i}`,
  }));
}
