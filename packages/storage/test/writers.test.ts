import { describe, expect, it } from 'vitest';
import { INSERT_ALERTS_SQL } from '../src/alerts-writer.ts';
import { INSERT_TRADES_SQL, TRADE_COLUMNS, writerOptionsFor } from '../src/trades-writer.ts';
import { buildUnnestInsert, encodeRows } from '../src/unnest-insert.ts';

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
    expect(buildUnnestInsert('t', [{ column: 'a', type: 'int8', element: String }])).toBe(
      'INSERT INTO t (a) SELECT u.c0 FROM unnest($1::int8[]) AS u(c0) ON CONFLICT DO NOTHING',
    );
    expect(INSERT_TRADES_SQL).toMatch(
      /^INSERT INTO trades \(time, symbol, price, size, source, trade_id, ingest_time\)/,
    );
    expect(INSERT_TRADES_SQL).toContain('$7::int8[]');
    expect(INSERT_TRADES_SQL).toContain("interval '1 microsecond'");
    expect(INSERT_ALERTS_SQL).toContain('INSERT INTO price_alerts (window_start, window_end, symbol');
    expect(INSERT_ALERTS_SQL).toMatch(/ON CONFLICT DO NOTHING$/);
  });

  it('encodes trades losslessly and counts their bytes', () => {
    const { elements, rowBytes } = encodeRows([trade], TRADE_COLUMNS);
    expect(elements.map((c) => c[0])).toEqual([
      '1767364200123456',
      '"AAPL"',
      '189.52',
      '100',
      '"replay"',
      '"a\\"b"',
      '1767364200123999',
    ]);
    expect(rowBytes[0]).toBe(elements.reduce((n, c) => n + (c[0]?.length ?? 0) + 1, 0));
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
