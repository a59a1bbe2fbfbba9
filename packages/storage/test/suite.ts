// Contract tests shared by the plain-PostgreSQL and the TimescaleDB integration files.
import fc from 'fast-check';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { AlertWriter } from '../src/alerts-writer.ts';
import { barsOneMinute, countTrades, latestAlerts } from '../src/queries.ts';
import type { SchemaMode } from '../src/schema.ts';
import { timestamptzToMicrosSql } from '../src/time.ts';
import { createTradeWriter, type TradeWriterOptions } from '../src/trades-writer.ts';
import type { PriceAlert, Trade } from '../src/types.ts';
import {
  expectBarsEqual,
  isolate,
  makeTrades,
  referenceBars,
  type StoredTrade,
  tradesArbitrary,
} from './reference.ts';

export interface SuiteContext {
  pool(): pg.Pool;
  /** The schema path the pool's database was migrated on. */
  mode: SchemaMode;
  writerOptions(): TradeWriterOptions;
  /** Property runs (PGlite is slow: fewer). */
  runs: number;
}

export async function storedTrades(pool: pg.Pool, symbols: readonly string[]): Promise<StoredTrade[]> {
  const { rows } = await pool.query<{
    symbol: string;
    price: number;
    size: number;
    source: string;
    trade_id: string;
    time_us: string;
    ingest_us: string;
    stored_us: string;
  }>(
    `SELECT symbol, price, size, source, trade_id, ${timestamptzToMicrosSql('time')} AS time_us,
            ${timestamptzToMicrosSql('ingest_time')} AS ingest_us, ${timestamptzToMicrosSql('stored_at')} AS stored_us
       FROM trades WHERE symbol = ANY($1::text[])`,
    [symbols],
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    price: r.price,
    size: r.size,
    source: r.source,
    tradeId: r.trade_id,
    eventTimeUs: Number(r.time_us),
    ingestTimeUs: Number(r.ingest_us),
    storedAtUs: Number(r.stored_us),
  }));
}

function symbolsOf(trades: readonly Trade[]): string[] {
  return [...new Set(trades.map((t) => t.symbol))];
}

export async function barsFor(pool: pg.Pool, mode: SchemaMode, symbols: readonly string[]) {
  const all = [];
  for (const symbol of symbols) all.push(...(await barsOneMinute(pool, { mode, symbol, limit: 10_000 })));
  return all.sort(
    (a, b) => a.bucketUs - b.bucketUs || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0),
  );
}

export function contractTests(ctx: SuiteContext): void {
  it('stores each trade once when the same batch is written three times', async () => {
    const trades = makeTrades(1200, { symbol: 'IDEM', idPrefix: 'same' });
    const writer = createTradeWriter(ctx.pool(), ctx.writerOptions());
    expect(await writer.write(trades)).toEqual({ inserted: 1200 });
    expect(await writer.write(trades)).toEqual({ inserted: 0 });
    expect(await writer.write(trades)).toEqual({ inserted: 0 });
    expect(await countTrades(ctx.pool(), { symbol: 'IDEM' })).toBe(1200);
  });

  it('stores each trade once across overlapping batches and duplicates inside a batch', async () => {
    const trades = makeTrades(1000, { symbol: 'OVER', idPrefix: 'ov' });
    const writer = createTradeWriter(ctx.pool(), ctx.writerOptions());
    expect((await writer.write(trades.slice(0, 600))).inserted).toBe(600);
    expect((await writer.write(trades.slice(400, 1000))).inserted).toBe(400);
    const dupInside = [
      ...trades.slice(900),
      ...trades.slice(950),
      ...makeTrades(3, { symbol: 'OVER', idPrefix: 'x' }),
    ];
    expect((await writer.write([...dupInside, ...dupInside])).inserted).toBe(3);
    expect(await countTrades(ctx.pool(), { symbol: 'OVER' })).toBe(1003);
    expect(await countTrades(ctx.pool(), { symbol: 'OVER', source: 'replay' })).toBe(0);
  });

  it('keeps every microsecond of event and ingest times', async () => {
    const times = [
      0, 1, 999_999, 1_000_001, 1_767_364_200_123_457, 1_767_364_200_999_999, 4_102_444_799_999_999,
      1_234_567_890_123_456, -1, -86_400_000_001,
    ];
    const trades: Trade[] = times.map((us, i) => ({
      symbol: 'MICRO',
      price: 1 + i,
      size: 0.000_001 * (i + 1),
      eventTimeUs: us,
      ingestTimeUs: us + 1,
      source: 'replay',
      tradeId: `m${i}`,
    }));
    await createTradeWriter(ctx.pool(), ctx.writerOptions()).write(trades);
    const back = await storedTrades(ctx.pool(), ['MICRO']);
    const byId = new Map(back.map((t) => [t.tradeId, t]));
    for (const t of trades) {
      const b = byId.get(t.tradeId);
      expect([b?.eventTimeUs, b?.ingestTimeUs, b?.price, b?.size]).toEqual([
        t.eventTimeUs,
        t.ingestTimeUs,
        t.price,
        t.size,
      ]);
    }
    // The bound parameters of the queries convert the same way: a range of exactly one µs finds one trade.
    const us = 1_767_364_200_123_457;
    expect(await countTrades(ctx.pool(), { symbol: 'MICRO', from: us, to: us + 1 })).toBe(1);
    expect(await countTrades(ctx.pool(), { symbol: 'MICRO', from: us + 1, to: us + 2 })).toBe(0);
  });

  it('stores text and doubles bit for bit, whatever they hold', async () => {
    // Values an array literal would have to quote or escape, multi-byte UTF-8, and doubles with no short
    // decimal form: the binary array parameters carry them without any escaping.
    const ids = ['NULL', '', 'a,b', '{x}', 'say "hi"', 'back\\slash', ' padded ', 'tab\tnew\nline', '€𝄞é'];
    const prices = [0.1 + 0.2, 1e-7 / 3, 98765432109.87654, 123456.789012345, 2 ** 52 + 0.5];
    const trades: Trade[] = ids.map((tradeId, i) => ({
      symbol: 'ODD€',
      price: prices[i % prices.length] as number,
      size: 1 / (i + 3),
      eventTimeUs: 1_767_364_200_000_000 + i,
      ingestTimeUs: 1_767_364_200_000_001 + i,
      source: `src "${i}"`,
      tradeId,
    }));
    expect(await createTradeWriter(ctx.pool(), ctx.writerOptions()).write(trades)).toEqual({
      inserted: ids.length,
    });
    const back = await storedTrades(ctx.pool(), ['ODD€']);
    const byId = new Map(back.map((t) => [t.tradeId, t]));
    for (const t of trades) {
      const b = byId.get(t.tradeId);
      expect([b?.symbol, b?.source, b?.price, b?.size]).toEqual([t.symbol, t.source, t.price, t.size]);
    }
  });

  it('bars_1m equals an independent computation over random trades with ties, disorder and redeliveries', async () => {
    await fc.assert(
      fc.asyncProperty(
        tradesArbitrary(['A', 'B', 'C']),
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 30 }),
        async (generated, cuts, redelivered) => {
          const trades = isolate(generated);
          // Write in several batches (different stored_at), then redeliver some as exact copies.
          const writer = createTradeWriter(ctx.pool(), ctx.writerOptions());
          let at = 0;
          for (const cut of cuts) {
            await writer.write(trades.slice(at, at + cut));
            at += cut;
          }
          await writer.write(trades.slice(at));
          const { inserted } = await writer.write([
            ...trades.slice(0, redelivered),
            ...trades.slice(-redelivered),
          ]);
          expect(inserted).toBe(0);

          const symbols = symbolsOf(trades);
          const stored = await storedTrades(ctx.pool(), symbols);
          expect(stored.length).toBe(trades.length);
          expectBarsEqual(await barsFor(ctx.pool(), ctx.mode, symbols), referenceBars(stored));
        },
      ),
      { numRuns: ctx.runs },
    );
  });

  it('bars_1m breaks equal event times by arrival (ingest time), then trade_id in byte order', async () => {
    const t = 1_767_364_260_000_000; // a minute boundary
    const mk = (tradeId: string, price: number, dtUs: number, ingestUs: number): Trade => ({
      symbol: 'TIE',
      price,
      size: 1,
      eventTimeUs: t + dtUs,
      ingestTimeUs: t + ingestUs,
      source: 'synthetic',
      tradeId,
    });
    // Same event time for all; written in an order unrelated to arrival.
    const trades = [
      mk('b', 12, 5, 30),
      mk('z', 10, 5, 10),
      mk('a', 11, 5, 10),
      mk('c', 13, 5, 40),
      mk('B', 9, 5, 40),
    ];
    await createTradeWriter(ctx.pool(), ctx.writerOptions()).write(trades);
    const [bar] = await barsOneMinute(ctx.pool(), { mode: ctx.mode, symbol: 'TIE', limit: 5 });
    // Earliest arrival: ingest +10 (ids 'a' < 'z') -> 'a' (11); latest: ingest +40 ('B' < 'c') -> 'c' (13).
    expect(bar).toMatchObject({ bucketUs: t, open: 11, close: 13, high: 13, low: 9, tradeCount: 5 });
  });

  it('stores a re-emitted alert once and reads the newest first', async () => {
    const writer = new AlertWriter(ctx.pool(), ctx.writerOptions());
    const base = 1_767_364_200_000_000;
    const alerts: PriceAlert[] = Array.from({ length: 5 }, (_, i) => ({
      symbol: i % 2 ? 'ALRT' : 'ALRU',
      windowStartUs: base + i * 60_000_000 + 123_457,
      windowEndUs: base + (i + 1) * 60_000_000 + 123_457,
      open: 100,
      close: 100 + i,
      changePct: i,
      thresholdPct: 0.5,
      direction: i % 2 ? 'UP' : 'DOWN',
    }));
    expect(await writer.write(alerts)).toEqual({ inserted: 5 });
    expect(await writer.write([...alerts, ...alerts])).toEqual({ inserted: 0 });
    const latest = await latestAlerts(ctx.pool(), { limit: 10, since: base });
    expect(latest.filter((a) => a.symbol.startsWith('ALR'))).toEqual([...alerts].reverse());
    expect(await latestAlerts(ctx.pool(), { symbol: 'ALRT', limit: 1 })).toEqual([alerts[3]]);
    const since = await latestAlerts(ctx.pool(), { limit: 10, since: alerts[3]?.windowEndUs });
    expect(since.map((a) => a.windowEndUs)).toEqual([alerts[4]?.windowEndUs, alerts[3]?.windowEndUs]);
  });

  it('filters and limits bars by symbol and bucket range', async () => {
    const start = 1_767_400_000_000_000 - (1_767_400_000_000_000 % 60_000_000);
    const trades = makeTrades(300, { symbol: 'RANGE', startUs: start, idPrefix: 'r' }).map((t, i) => ({
      ...t,
      eventTimeUs: start + i * 1_000_000, // 300 s = 5 bars
    }));
    await createTradeWriter(ctx.pool(), ctx.writerOptions()).write(trades);
    const all = await barsOneMinute(ctx.pool(), { mode: ctx.mode, symbol: 'RANGE', limit: 100 });
    expect(all.map((b) => b.bucketUs)).toEqual([0, 1, 2, 3, 4].map((i) => start + i * 60_000_000));
    expect(all.every((b) => b.tradeCount === 60)).toBe(true);
    const latest2 = await barsOneMinute(ctx.pool(), { mode: ctx.mode, symbol: 'RANGE', limit: 2 });
    expect(latest2.map((b) => b.bucketUs)).toEqual([start + 3 * 60_000_000, start + 4 * 60_000_000]);
    const ranged = async (from: number, to: number) =>
      (await barsOneMinute(ctx.pool(), { mode: ctx.mode, symbol: 'RANGE', from, to, limit: 100 })).map(
        (b) => b.bucketUs,
      );
    const m = (i: number) => start + i * 60_000_000;
    expect(await ranged(m(1), m(3))).toEqual([m(1), m(2)]);
    // Bounds inside a minute: a bucket is in the range when its start is, whatever its trades' times.
    expect(await ranged(m(1) + 1, m(3) + 1)).toEqual([m(2), m(3)]);
    expect(await ranged(m(1) - 1, m(3) - 1)).toEqual([m(1), m(2)]);
    expect(await ranged(m(1) + 59_999_999, m(2) + 1)).toEqual([m(2)]);
    expect(await ranged(m(2) + 1, m(2) + 2)).toEqual([]);
  });
}
