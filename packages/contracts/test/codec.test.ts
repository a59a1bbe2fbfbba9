import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertFromJson,
  alertToJson,
  type Bar,
  DLQ_REASONS,
  type DlqReason,
  decodeAlert,
  decodeBar,
  decodeTrade,
  encodeAlert,
  encodeBar,
  encodeTrade,
  MalformedMessageError,
  MIN_QUANTITY,
  type PriceAlert,
  SOURCE_PATTERN,
  type Trade,
  validateTrade,
} from '../src/index.ts';

const trade: Trade = {
  symbol: 'AAPL',
  price: 189.52,
  size: 100,
  eventTimeUs: 1_767_364_200_123_456,
  ingestTimeUs: 1_767_364_200_124_000,
  source: 'replay',
  tradeId: '42',
};

const bar: Bar = {
  symbol: 'BTCUSDT',
  interval: '1m',
  startUs: 1_767_364_200_000_000,
  open: 97_000.5,
  high: 97_100,
  low: 96_950.25,
  close: 97_050,
  volume: 12.345,
  vwap: 97_020.125,
  tradeCount: 420,
};

const alert: PriceAlert = {
  symbol: 'TSLA',
  windowStartUs: 1_767_364_200_000_000,
  windowEndUs: 1_767_364_260_000_000,
  open: 250,
  close: 245,
  changePct: -2,
  thresholdPct: 1.5,
  direction: 'DOWN',
};

function reasonOf(bytes: Uint8Array | null, maxBytes?: number): DlqReason | 'ok' {
  const r = decodeTrade(bytes, maxBytes);
  return r.ok ? 'ok' : r.reason;
}

function withTrade(patch: Partial<Record<keyof Trade, unknown>>): Uint8Array {
  return encodeTrade({ ...trade, ...patch } as Trade);
}

/** Hand-built wire bytes, for inputs encodeTrade cannot produce. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
  out.push(n);
  return out;
}
const tag = (field: number, wireType: number) => varint((field << 3) | wireType);
const str = (field: number, s: string) => [...tag(field, 2), ...varint(s.length), ...Buffer.from(s)];

describe('round trips', () => {
  it('Trade', () => {
    const r = decodeTrade(encodeTrade(trade));
    expect(r).toEqual({ ok: true, trade });
    if (r.ok) expect(typeof r.trade.eventTimeUs).toBe('number');
  });

  it('Trade: property over arbitrary valid trades', () => {
    const symbol = fc.stringMatching(/^[A-Z0-9][A-Z0-9._:\-/]{0,31}$/);
    const positive = fc.double({ min: MIN_QUANTITY, max: 1e12, noNaN: true });
    const time = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const text = fc.string({ minLength: 1, maxLength: 40 });
    const source = fc.stringMatching(SOURCE_PATTERN);
    fc.assert(
      fc.property(symbol, positive, positive, time, time, source, text, (s, p, q, e, i, src, id) => {
        const t: Trade = {
          symbol: s,
          price: p,
          size: q,
          eventTimeUs: e,
          ingestTimeUs: i,
          source: src,
          tradeId: id,
        };
        expect(decodeTrade(encodeTrade(t))).toEqual({ ok: true, trade: t });
      }),
    );
  });

  it('decodes a Buffer view into a larger pooled buffer, as Kafka clients hand them out', () => {
    const pooled = Buffer.concat([Buffer.from('junk before'), encodeTrade(trade), Buffer.from('junk after')]);
    const view = pooled.subarray(11, pooled.length - 10);
    expect(decodeTrade(view)).toEqual({ ok: true, trade });
    expect(decodeTrade(new Uint8Array(view))).toEqual({ ok: true, trade });
  });

  it('encodeTrade returns independent buffers despite the shared writer', () => {
    const a = encodeTrade(trade);
    const copy = [...a];
    encodeTrade({ ...trade, symbol: 'MSFT', tradeId: '43' });
    expect([...a]).toEqual(copy);
  });

  it('Bar and PriceAlert', () => {
    expect(decodeBar(encodeBar(bar))).toEqual(bar);
    expect(decodeBar(encodeBar({ ...bar, interval: '1s', tradeCount: 0 }))).toEqual({
      ...bar,
      interval: '1s',
      tradeCount: 0,
    });
    expect(decodeAlert(encodeAlert(alert))).toEqual(alert);
    expect(decodeAlert(encodeAlert({ ...alert, direction: 'UP', changePct: 3 }))).toMatchObject({
      direction: 'UP',
    });
  });

  it('unknown (newer) fields are ignored: schema evolution is additive', () => {
    const newer = Uint8Array.from([...encodeTrade(trade), ...str(99, 'future')]);
    expect(decodeTrade(newer)).toEqual({ ok: true, trade });
    expect(decodeBar(Uint8Array.from([...encodeBar(bar), ...tag(42, 0), 7]))).toEqual(bar);
  });
});

describe('decodeTrade rejects every bad-input class with the right reason', () => {
  it('oversized', () => {
    const bytes = encodeTrade(trade);
    expect(reasonOf(bytes, bytes.length)).toBe('ok');
    const r = decodeTrade(bytes, bytes.length - 1);
    expect(r).toMatchObject({ ok: false, reason: 'oversized' });
    if (!r.ok) expect(r.error).toContain(String(bytes.length));
    expect(reasonOf(new Uint8Array(10_000))).toBe('oversized');
  });

  it('malformed protobuf: null value, truncated varints, fields and strings', () => {
    expect(reasonOf(null)).toBe('malformed-protobuf');
    // event_time_us varint whose continuation bit promises more bytes than there are.
    expect(reasonOf(Uint8Array.from([...str(1, 'AAPL'), ...tag(4, 0), 0xff, 0xff]))).toBe(
      'malformed-protobuf',
    );
    // A varint longer than 10 bytes.
    expect(reasonOf(Uint8Array.from([...tag(4, 0), ...Array(11).fill(0xff), 0x01]))).toBe(
      'malformed-protobuf',
    );
    // A double cut after 3 of its 8 bytes.
    expect(reasonOf(Uint8Array.from([...str(1, 'AAPL'), ...tag(2, 1), 1, 2, 3]))).toBe('malformed-protobuf');
    // A string whose length runs past the end.
    expect(reasonOf(Uint8Array.from([...tag(1, 2), 50, 65, 65]))).toBe('malformed-protobuf');
    // Invalid UTF-8 in a string field.
    expect(reasonOf(Uint8Array.from([...tag(1, 2), 2, 0xc3, 0x28]))).toBe('malformed-protobuf');
    // Wire types 6 and 7 do not exist; field number 0 is illegal.
    expect(reasonOf(Uint8Array.from([...tag(3, 7), 1]))).toBe('malformed-protobuf');
    expect(reasonOf(Uint8Array.from([...tag(0, 0), 1]))).toBe('malformed-protobuf');
    // A known field with the wrong wire type (price sent as a varint).
    const r = decodeTrade(Uint8Array.from([...encodeTrade(trade), ...tag(2, 0), 5]));
    expect(r).toMatchObject({ ok: false, reason: 'malformed-protobuf' });
    if (!r.ok) expect(r.error).toContain('field 2');
  });

  it('every truncation of a valid trade is rejected; cuts inside a field are malformed-protobuf', () => {
    const bytes = encodeTrade(trade);
    // Offsets where a field ends, i.e. where a cut leaves well-formed (but incomplete) protobuf.
    const boundaries = new Set<number>([0]);
    const keys: (keyof Trade)[] = [
      'symbol',
      'price',
      'size',
      'eventTimeUs',
      'ingestTimeUs',
      'source',
      'tradeId',
    ];
    const partial: Partial<Trade> = {};
    for (const k of keys) {
      Object.assign(partial, { [k]: trade[k] });
      boundaries.add(encodeTrade(partial as Trade).length);
    }
    for (let n = 0; n < bytes.length; n++) {
      const reason = reasonOf(bytes.subarray(0, n));
      expect(reason, `cut at ${n}`).not.toBe('ok');
      if (!boundaries.has(n)) expect(reason, `cut at ${n}`).toBe('malformed-protobuf');
    }
  });

  it('empty and invalid symbols (no normalisation)', () => {
    expect(reasonOf(new Uint8Array(0))).toBe('empty-symbol');
    expect(reasonOf(withTrade({ symbol: '' }))).toBe('empty-symbol');
    for (const symbol of ['aapl', 'AAPL ', ' AAPL', '-AAPL', 'A'.repeat(33), 'BTC USDT', 'ÄAPL', 'AA\nPL']) {
      expect(reasonOf(withTrade({ symbol })), symbol).toBe('invalid-symbol');
    }
    for (const symbol of [
      'A',
      'BRK.B',
      'BTC-USD',
      'BINANCE:BTCUSDT',
      'ETH/USD',
      '7203',
      'X_Y',
      'A'.repeat(32),
    ]) {
      expect(reasonOf(withTrade({ symbol })), symbol).toBe('ok');
    }
  });

  it.each([
    ['price', 'invalid-price'],
    ['size', 'invalid-size'],
  ] as const)('%s: NaN, ±Infinity, zero, -0, negatives and the extremes of a double', (field, reason) => {
    const extremes = [Number.MIN_VALUE, 1e-101, 1e101, Number.MAX_VALUE];
    for (const value of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0,
      -0,
      -1,
      -1e-9,
      ...extremes,
    ]) {
      const r = decodeTrade(withTrade({ [field]: value }));
      expect(r, `${field}=${value}`).toMatchObject({ ok: false, reason });
      if (!r.ok) expect(r.error).toContain(field);
    }
    for (const value of [1e-100, 1e-12, 0.00001234, 1e15, 1e100]) {
      expect(reasonOf(withTrade({ [field]: value })), `${field}=${value}`).toBe('ok');
    }
  });

  it('event and ingest time: zero, negative, beyond 2^53', () => {
    for (const value of [0, -1, -1_767_364_200_123_456, 2 ** 53, 2 ** 60]) {
      expect(reasonOf(withTrade({ eventTimeUs: value })), `event ${value}`).toBe('invalid-event-time');
      expect(reasonOf(withTrade({ ingestTimeUs: value })), `ingest ${value}`).toBe('invalid-ingest-time');
    }
    // int64 max on the wire (0xff.. 0x7f) decodes to a number above 2^53.
    const max = Uint8Array.from([
      ...encodeTrade({ ...trade, eventTimeUs: 0 } as Trade),
      ...tag(4, 0),
      ...Array(8).fill(0xff),
      0x7f,
    ]);
    expect(reasonOf(max)).toBe('invalid-event-time');
  });

  it('missing trade id and source', () => {
    const r = decodeTrade(withTrade({ tradeId: '' }));
    expect(r).toMatchObject({ ok: false, reason: 'missing-trade-id' });
    if (!r.ok) expect(r.error).toContain('trade_id');
    expect(reasonOf(withTrade({ source: '' }))).toBe('invalid-source');
  });

  it('source names cannot carry control characters (they are joined into the identity key)', () => {
    expect(reasonOf(withTrade({ source: 'binance\u001fX' }))).toBe('invalid-source');
    expect(reasonOf(withTrade({ source: 'Binance' }))).toBe('invalid-source');
    expect(reasonOf(withTrade({ source: 'my-feed.v2' }))).toBe('ok');
  });

  it('error messages name the field and the value', () => {
    const r = decodeTrade(withTrade({ symbol: 'aapl' }));
    expect(!r.ok && r.error).toMatch(/symbol "aapl"/);
    const p = decodeTrade(withTrade({ price: -3.5 }));
    expect(!p.ok && p.error).toMatch(/price .*-3\.5/);
    const long = validateTrade({ ...trade, symbol: 'x'.repeat(10_000) });
    expect(long?.error.length).toBeLessThan(200);
  });

  it('never throws on arbitrary bytes, and every outcome is well-formed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 400 }), (bytes, maxBytes) => {
        const r = decodeTrade(bytes, maxBytes);
        if (r.ok) {
          expect(validateTrade(r.trade)).toBeNull();
        } else {
          expect(DLQ_REASONS).toContain(r.reason);
          expect(r.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('never throws on mutations of a valid trade', () => {
    const base = encodeTrade(trade);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, b) => {
        const bytes = Uint8Array.from(base);
        bytes[i] = b;
        const r = decodeTrade(bytes);
        if (r.ok) expect(validateTrade(r.trade)).toBeNull();
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('validateTrade', () => {
  it('accepts a valid trade and tolerates wrongly typed fields from parsed JSON', () => {
    expect(validateTrade(trade)).toBeNull();
    const bad = (patch: Record<string, unknown>) => validateTrade({ ...trade, ...patch } as Trade)?.reason;
    expect(bad({ price: '189.52' })).toBe('invalid-price');
    expect(bad({ size: null })).toBe('invalid-size');
    expect(bad({ symbol: undefined })).toBe('empty-symbol');
    expect(bad({ eventTimeUs: 1.5 })).toBe('invalid-event-time');
    expect(bad({ tradeId: 42 })).toBe('missing-trade-id');
  });
});

describe('Bar and PriceAlert decoding', () => {
  it('rejects unknown interval/direction and corrupt bytes with MalformedMessageError', () => {
    expect(() => decodeBar(encodeBar({ ...bar, interval: '5m' as Bar['interval'] }))).toThrow(
      /interval.*"5m"/,
    );
    expect(() => decodeBar(Uint8Array.from([...tag(3, 0), 0xff]))).toThrow(MalformedMessageError);
    expect(() =>
      decodeAlert(encodeAlert({ ...alert, direction: 'SIDEWAYS' as PriceAlert['direction'] })),
    ).toThrow(/direction/);
    expect(() => decodeAlert(Uint8Array.from([...tag(4, 1), 1]))).toThrow(MalformedMessageError);
  });
});

describe('alert JSON on the Redis channel', () => {
  it('uses the contract field names', () => {
    expect(JSON.parse(alertToJson(alert))).toEqual({
      symbol: 'TSLA',
      window_start_us: 1_767_364_200_000_000,
      window_end_us: 1_767_364_260_000_000,
      open: 250,
      close: 245,
      change_pct: -2,
      threshold_pct: 1.5,
      direction: 'DOWN',
    });
  });

  it('parses back, and rejects malformed JSON', () => {
    expect(alertFromJson(alertToJson(alert))).toEqual(alert);
    expect(() => alertFromJson('{')).toThrow(MalformedMessageError);
    expect(() => alertFromJson('[]')).toThrow(/object/);
    expect(() => alertFromJson(alertToJson(alert).replace('"DOWN"', '"FLAT"'))).toThrow(/direction/);
    expect(() => alertFromJson(JSON.stringify({ ...JSON.parse(alertToJson(alert)), open: '1' }))).toThrow(
      /open/,
    );
  });
});
