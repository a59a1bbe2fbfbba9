import { describe, expect, it } from 'vitest';
import { INSERT_ALERTS_SQL } from '../src/alerts-writer.ts';
import { INSERT_TRADES_SQL, TRADE_COLUMNS, writerOptionsFor } from '../src/trades-writer.ts';
import { buildUnnestInsert, encodeChunks, STATEMENT_OVERHEAD_BYTES } from '../src/unnest-insert.ts';

const trade = {
  symbol: 'AAPL',
  price: 189.52,
  size: 100,
  eventTimeUs: 1_767_364_200_123_456,
  ingestTimeUs: 1_767_364_200_123_999,
  source: 'replay',
  tradeId: 'a"b',
};

describe('unnest insert SQL', () => {
  it('has one array parameter per column and ignores conflicts', () => {
    expect(buildUnnestInsert('t', [{ column: 'a', type: 'int8', value: Number }])).toBe(
      'INSERT INTO t (a) SELECT u.c0 FROM unnest($1::int8[]) AS u(c0) ON CONFLICT DO NOTHING',
    );
    expect(INSERT_TRADES_SQL).toMatch(
      /^INSERT INTO trades \(time, symbol, price, size, source, trade_id, ingest_time\)/,
    );
    expect(INSERT_TRADES_SQL).toContain('$7::timestamptz[]');
    expect(INSERT_ALERTS_SQL).toContain('INSERT INTO price_alerts (window_start, window_end, symbol');
    expect(INSERT_ALERTS_SQL).toMatch(/ON CONFLICT DO NOTHING$/);
  });

  it('encodes trades as binary arrays whose sizes the byte limit counts exactly', () => {
    const [chunk] = encodeChunks([trade, trade], TRADE_COLUMNS, { maxRows: 10, maxBytes: 64 * 1024 });
    expect(chunk?.values.map((v) => v.readUInt32BE(8))).toEqual([1184, 25, 701, 701, 25, 25, 1184]);
    expect(chunk?.values[5]?.subarray(-3).toString()).toBe('a"b'); // no escaping in binary form
    const wire = chunk?.values.reduce((n, v) => n + v.length, 0) ?? 0;
    const headers = 7 * 20;
    // Per row: 4 fixed-size elements (12 bytes each) and 3 text elements (4 + their UTF-8 bytes).
    expect(wire - headers).toBe(2 * (4 * 12 + (4 + 4) + (4 + 6) + (4 + 3)));
  });

  it('splits a batch where the rows or the bytes would overflow a statement', () => {
    const rows = Array.from({ length: 5 }, () => trade);
    expect(
      encodeChunks(rows, TRADE_COLUMNS, { maxRows: 2, maxBytes: Infinity }).map((c) => [c.start, c.end]),
    ).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    const rowBytes = 4 * 12 + 8 + 10 + 7;
    const maxBytes = STATEMENT_OVERHEAD_BYTES + 7 * 20 + 2 * rowBytes;
    expect(encodeChunks(rows, TRADE_COLUMNS, { maxRows: 100, maxBytes }).map((c) => c.end - c.start)).toEqual(
      [2, 2, 1],
    );
  });
});

describe('writerOptionsFor', () => {
  it('keeps PGlite at 500 rows and under 64 KiB per statement', () => {
    const o = writerOptionsFor({ pglite: true });
    expect(o.chunkRows).toBeLessThanOrEqual(500);
    expect(o.maxStatementBytes).toBeLessThan(64 * 1024);
    expect(writerOptionsFor({ pglite: false }).maxStatementBytes).toBe(Number.POSITIVE_INFINITY);
  });
});
