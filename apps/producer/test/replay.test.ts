import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Trade, validateTrade } from '@tickflow/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReplayStats,
  finnhubTradeId,
  parseBinanceLine,
  parseFinnhubLine,
  parseIsoMicros,
  parseJsonlLine,
  REPLAY_PARSERS,
  type ReplayLineResult,
  readReplayFile,
} from '../src/sources/index.ts';

function trades(result: ReplayLineResult): readonly Trade[] {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.error}`);
  return result.trades;
}

function failure(result: ReplayLineResult): { reason: string; error: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

const line = (o: unknown) => JSON.stringify(o);
const good = {
  symbol: 'AAPL',
  price: 189.52,
  size: 100,
  event_time_us: 1_767_364_200_123_456,
  trade_id: '42',
};

describe('jsonl', () => {
  it('parses the contract line, defaulting source to replay', () => {
    expect(trades(parseJsonlLine(line(good)))).toEqual([
      {
        symbol: 'AAPL',
        price: 189.52,
        size: 100,
        eventTimeUs: 1_767_364_200_123_456,
        ingestTimeUs: 1_767_364_200_123_456,
        source: 'replay',
        tradeId: '42',
      },
    ]);
    expect(trades(parseJsonlLine(line({ ...good, source: 'synthetic' })))[0]?.source).toBe('synthetic');
    expect(
      trades(parseJsonlLine(line({ ...good, trade_id: 7, price: '189.50', size: '0.5' })))[0],
    ).toMatchObject({
      tradeId: '7',
      price: 189.5,
      size: 0.5,
    });
  });

  it('accepts an ISO-8601 ts with microseconds and any zone', () => {
    const { event_time_us: _, ...rest } = good;
    const at = (ts: string) => trades(parseJsonlLine(line({ ...rest, ts })))[0]?.eventTimeUs;
    expect(at('2026-01-02T14:30:00.123456Z')).toBe(1_767_364_200_123_456);
    expect(at('2026-01-02T15:30:00.123456+01:00')).toBe(1_767_364_200_123_456);
    expect(at('2026-01-02T09:30:00.123456789-0500')).toBe(1_767_364_200_123_456);
    expect(at('2026-01-02 14:30:00Z')).toBe(1_767_364_200_000_000);
    expect(at('2026-01-02T14:30:00.5Z')).toBe(1_767_364_200_500_000);
    expect(parseIsoMicros('2026-02-30T00:00:00Z')).toBeNull();
    expect(parseIsoMicros('2026-01-02T24:00:00Z')).toBeNull();
    const noZone = failure(parseJsonlLine(line({ ...rest, ts: '2026-01-02T14:30:00' })));
    expect(noZone).toMatchObject({ reason: 'invalid-field' });
    expect(noZone.error).toMatch(/zone/);
  });

  it('reports malformed lines with a reason', () => {
    expect(failure(parseJsonlLine('{"symbol":'))).toMatchObject({ reason: 'invalid-json' });
    expect(failure(parseJsonlLine('[1,2]'))).toMatchObject({ reason: 'unexpected-shape' });
    expect(failure(parseJsonlLine('{"ok":false}'))).toMatchObject({ reason: 'invalid-field' });
    const { trade_id: _, ...noId } = good;
    expect(failure(parseJsonlLine(line(noId))).error).toMatch(/trade_id/);
    expect(failure(parseJsonlLine(line({ ...good, price: 'abc' }))).error).toMatch(/price/);
    expect(failure(parseJsonlLine(line({ ...good, event_time_us: 1.5 }))).error).toMatch(/event_time_us/);
    const lower = failure(parseJsonlLine(line({ ...good, symbol: 'aapl' })));
    expect(lower).toMatchObject({ reason: 'invalid-trade' });
    expect(lower.error).toMatch(/invalid-symbol/);
    expect(failure(parseJsonlLine(line({ ...good, price: -1 })))).toMatchObject({ reason: 'invalid-trade' });
    expect(failure(parseJsonlLine(line({ ...good, trade_id: '' }))).error).toMatch(/missing-trade-id/);
  });

  it('skips blank lines', () => {
    expect(parseJsonlLine('   ')).toMatchObject({ ok: true, skipped: true, trades: [] });
  });
});

const binanceTrade = {
  e: 'trade',
  E: 1_767_364_200_124,
  s: 'BTCUSDT',
  t: 5_123_456_789,
  p: '97000.01000000',
  q: '0.00150000',
  T: 1_767_364_200_123,
  m: true,
  M: true,
};

describe('binance', () => {
  const expected: Trade = {
    symbol: 'BTCUSDT',
    price: 97_000.01,
    size: 0.0015,
    eventTimeUs: 1_767_364_200_123_000,
    ingestTimeUs: 1_767_364_200_123_000,
    source: 'binance',
    tradeId: '5123456789',
  };

  it('parses bare and combined-stream trade events', () => {
    expect(trades(parseBinanceLine(line(binanceTrade)))).toEqual([expected]);
    expect(trades(parseBinanceLine(line({ stream: 'btcusdt@trade', data: binanceTrade })))).toEqual([
      expected,
    ]);
  });

  it('skips other events and subscription replies', () => {
    expect(parseBinanceLine(line({ ...binanceTrade, e: 'aggTrade' }))).toMatchObject({
      ok: true,
      skipped: true,
    });
    expect(parseBinanceLine(line({ stream: 'btcusdt@depth', data: { e: 'depthUpdate' } }))).toMatchObject({
      skipped: true,
    });
    expect(parseBinanceLine('{"result":null,"id":1}')).toMatchObject({ ok: true, skipped: true });
  });

  it('reports malformed events', () => {
    expect(failure(parseBinanceLine(line({ ...binanceTrade, p: 'n/a' }))).error).toMatch(/\bp\b/);
    expect(failure(parseBinanceLine(line({ ...binanceTrade, p: '' }))).error).toMatch(/\bp\b/);
    const { T: _, ...noTime } = binanceTrade;
    expect(failure(parseBinanceLine(line(noTime))).error).toMatch(/\bT\b/);
    expect(failure(parseBinanceLine(line({ stream: 'x', data: 'oops' })))).toMatchObject({
      reason: 'unexpected-shape',
    });
    expect(failure(parseBinanceLine('{"foo":1}'))).toMatchObject({ reason: 'unexpected-shape' });
    expect(failure(parseBinanceLine(line({ ...binanceTrade, q: '0' })))).toMatchObject({
      reason: 'invalid-trade',
    });
    expect(failure(parseBinanceLine('not json'))).toMatchObject({ reason: 'invalid-json' });
  });
});

describe('finnhub', () => {
  const frame = {
    type: 'trade',
    data: [
      { s: 'AAPL', p: 189.5, v: 100, t: 1_767_364_200_123, c: ['1', '12'] },
      { s: 'BINANCE:BTCUSDT', p: 97_000.5, v: 0.01, t: 1_767_364_200_124 },
      { s: 'AAPL', p: 189.5, v: 100, t: 1_767_364_200_123 },
    ],
  };

  it('yields every trade of a frame, with deterministic ids', () => {
    const a = trades(parseFinnhubLine(line(frame)));
    expect(a).toHaveLength(3);
    expect(a[0]).toMatchObject({
      symbol: 'AAPL',
      price: 189.5,
      size: 100,
      eventTimeUs: 1_767_364_200_123_000,
      source: 'finnhub',
    });
    expect(a[1]?.symbol).toBe('BINANCE:BTCUSDT');
    for (const t of a) expect(validateTrade(t)).toBeNull();
    // Same input, same ids: a replay is idempotent downstream.
    expect(trades(parseFinnhubLine(line(frame))).map((t) => t.tradeId)).toEqual(a.map((t) => t.tradeId));
    // Identical trades within a frame are told apart by their index.
    expect(a[0]?.tradeId).not.toBe(a[2]?.tradeId);
    expect(a[0]?.tradeId).toBe(finnhubTradeId('AAPL', 1_767_364_200_123, 189.5, 100, 0));
    expect(finnhubTradeId('AAPL', 1, 189.5, 100, 0)).not.toBe(finnhubTradeId('AAPL', 1, 189.51, 100, 0));
    expect(finnhubTradeId('AAPL', 1, 189.5, 100, 0)).not.toBe(finnhubTradeId('MSFT', 1, 189.5, 100, 0));
  });

  it('skips pings and keeps the good trades of a partly bad frame', () => {
    expect(parseFinnhubLine('{"type":"ping"}')).toMatchObject({ ok: true, skipped: true, trades: [] });
    const partial = parseFinnhubLine(
      line({ type: 'trade', data: [frame.data[0], { s: 'AAPL', p: 189.5, v: 0, t: 1 }, 'junk'] }),
    );
    expect(trades(partial)).toHaveLength(1);
    expect(partial.ok && partial.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(partial.ok && partial.rejected[0]?.error).toMatch(/data\[1\].*invalid-size/);
  });

  it('reports frames with nothing usable', () => {
    expect(
      failure(parseFinnhubLine(line({ type: 'trade', data: [{ s: 'AAPL', p: 1, v: 1 }] }))).error,
    ).toMatch(/data\[0\].*\bt\b/);
    expect(failure(parseFinnhubLine(line({ type: 'trade', data: {} })))).toMatchObject({
      reason: 'unexpected-shape',
    });
    expect(failure(parseFinnhubLine(line({ data: [] })))).toMatchObject({ reason: 'unexpected-shape' });
  });
});

describe('all parsers', () => {
  it('never throw, and only return valid trades', () => {
    const inputs = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ type: fc.constant('trade'), data: fc.array(fc.jsonValue()) }).map((o) => JSON.stringify(o)),
      fc
        .record({
          e: fc.constant('trade'),
          s: fc.string(),
          p: fc.jsonValue(),
          q: fc.jsonValue(),
          T: fc.jsonValue(),
          t: fc.jsonValue(),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        for (const parse of Object.values(REPLAY_PARSERS)) {
          const result = parse(input);
          if (result.ok) for (const t of result.trades) expect(validateTrade(t)).toBeNull();
          else expect(result.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('readReplayFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tickflow-replay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function collect(path: string, format: 'jsonl' | 'binance' | 'finnhub', maxErrors?: number) {
    const stats = createReplayStats();
    const out: Trade[] = [];
    for await (const t of readReplayFile(path, format, {
      stats,
      ...(maxErrors === undefined ? {} : { maxErrors }),
    })) {
      out.push(t);
    }
    return { out, stats };
  }

  it('streams good lines and counts malformed and skipped ones with line numbers', async () => {
    const path = join(dir, 'mixed.jsonl');
    const lines = [
      line(good), // 1
      '{"symbol":"AAPL", broken', // 2
      line({ ...good, trade_id: '43', price: 189.6 }), // 3
      '', // 4: blank, skipped
      line({ ...good, symbol: 'msft', trade_id: '44' }), // 5
      line({ ...good, trade_id: '45', ts: '2026-01-02T14:30:01Z', event_time_us: undefined }), // 6
    ];
    // BOM, CRLF line ends and no final newline: what spreadsheet exports look like.
    await writeFile(path, `\uFEFF${lines.join('\r\n')}`);
    const { out, stats } = await collect(path, 'jsonl');
    expect(out.map((t) => t.tradeId)).toEqual(['42', '43', '45']);
    expect(out[2]?.eventTimeUs).toBe(1_767_364_201_000_000);
    expect(stats).toMatchObject({ lines: 6, trades: 3, malformed: 2, skipped: 1 });
    expect(stats.errors.map((e) => e.line)).toEqual([2, 5]);
    expect(stats.errors[0]?.error).toMatch(/not JSON/);
    expect(stats.errors[1]?.error).toMatch(/invalid-symbol.*"msft"/);
  });

  it('keeps only the first few errors but counts them all, and returns the stats', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(
      path,
      `${Array.from({ length: 50 }, (_, i) => `garbage ${i}`).join('\n')}\n${line(good)}\n`,
    );
    const { stats } = await collect(path, 'jsonl', 3);
    expect(stats.malformed).toBe(50);
    expect(stats.errors.map((e) => e.line)).toEqual([1, 2, 3]);
    const it = readReplayFile(path, 'jsonl');
    let step = await it.next();
    while (!step.done) step = await it.next();
    expect(step.value).toMatchObject({ lines: 51, trades: 1, malformed: 50 });
  });

  it('counts per-trade problems of finnhub frames and binance skips', async () => {
    const fh = join(dir, 'finnhub.jsonl');
    await writeFile(
      fh,
      [
        '{"type":"ping"}',
        line({
          type: 'trade',
          data: [
            { s: 'AAPL', p: 1, v: 1, t: 1 },
            { s: 'AAPL', p: 1, v: -1, t: 1 },
          ],
        }),
        '{"type":"trade","data":[{"s":"AAPL","p":2,"v":1,"t":2},{"s":"MSFT","p":3,"v":1,"t":2}]}',
      ].join('\n'),
    );
    const f = await collect(fh, 'finnhub');
    expect(f.out).toHaveLength(3);
    expect(f.stats).toMatchObject({ lines: 3, trades: 3, malformed: 1, skipped: 1 });
    expect(f.stats.errors[0]).toMatchObject({ line: 2 });
    expect(f.stats.errors[0]?.error).toMatch(/data\[1\]/);

    const bn = join(dir, 'binance.jsonl');
    await writeFile(
      bn,
      [line(binanceTrade), line({ ...binanceTrade, e: 'kline' }), '{"result":null,"id":7}'].join('\n'),
    );
    const b = await collect(bn, 'binance');
    expect(b.stats).toMatchObject({ lines: 3, trades: 1, malformed: 0, skipped: 2 });
  });

  it('accumulates several files into one stats object with per-file line numbers', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    await writeFile(a, `${line(good)}\nbad\n`);
    await writeFile(b, `bad\n${line({ ...good, trade_id: '2' })}\n`);
    const stats = createReplayStats();
    for (const path of [a, b]) for await (const _ of readReplayFile(path, 'jsonl', { stats })) void _;
    expect(stats).toMatchObject({ lines: 4, trades: 2, malformed: 2 });
    expect(stats.errors.map((e) => e.line)).toEqual([2, 1]);
  });

  it('stops cleanly when the consumer breaks early, and fails on a missing file', async () => {
    const path = join(dir, 'many.jsonl');
    await writeFile(
      path,
      Array.from({ length: 10_000 }, (_, i) => line({ ...good, trade_id: String(i) })).join('\n'),
    );
    let n = 0;
    for await (const _ of readReplayFile(path, 'jsonl')) if (++n === 5) break;
    expect(n).toBe(5);
    await expect(collect(join(dir, 'nope.jsonl'), 'jsonl')).rejects.toThrow(/ENOENT/);
  });
});
