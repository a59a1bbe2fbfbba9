import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BINANCE_LIMITS,
  backoffDelay,
  binanceProtocols,
  binanceStreamUrl,
  createFeedStats,
  finnhubProtocol,
  finnhubUrl,
  formatFeedStats,
  parseBinanceFrame,
  parseFinnhubFrame,
  RecentIds,
  redact,
  renderFeedMetrics,
  retryAfterMs,
  SkewEstimator,
  tradeKey,
  WindowLimiter,
} from '../src/feeds/index.ts';
import { finnhubTradeId, parseBinanceLine, parseFinnhubLine } from '../src/sources/replay.ts';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0 };

  it('doubles per attempt up to the cap without jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((a) => backoffDelay(a, opts))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  it('spreads the delay over [exp*(1-jitter), exp] using the random source', () => {
    const o = { ...opts, jitter: 0.5 };
    expect(backoffDelay(2, o, () => 0)).toBe(200);
    expect(backoffDelay(2, o, () => 0.5)).toBe(300);
    expect(backoffDelay(2, o, () => 0.999999)).toBeCloseTo(400, 3);
    expect(backoffDelay(0, { ...o, jitter: 1 }, () => 0)).toBe(0);
  });

  it('stays within bounds and never exceeds the cap for any attempt and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r, jitter) => {
          const d = backoffDelay(attempt, { initialMs: 50, maxMs: 30_000, jitter }, () => r);
          const exp = Math.min(30_000, 50 * 2 ** Math.min(64, Math.max(0, attempt)));
          return d >= exp * (1 - jitter) - 1e-9 && d <= exp + 1e-9 && Number.isFinite(d);
        },
      ),
    );
  });

  it('rejects nonsense options', () => {
    expect(() => backoffDelay(0, { initialMs: -1, maxMs: 10 })).toThrow(RangeError);
    expect(() => backoffDelay(0, { initialMs: 1, maxMs: 10, multiplier: 0.5 })).toThrow(RangeError);
  });
});

describe('RecentIds', () => {
  it('reports repeats and forgets the oldest key beyond its capacity', () => {
    const ids = new RecentIds(3);
    expect(['a', 'b', 'a', 'c'].map((k) => ids.add(k))).toEqual([true, true, false, true]);
    expect(ids.size).toBe(3);
    expect(ids.add('d')).toBe(true); // evicts a
    expect(ids.size).toBe(3);
    expect(ids.has('a')).toBe(false);
    expect(ids.add('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
    expect(ids.add('c')).toBe(false);
  });

  it('never holds more than its capacity and always remembers the last `capacity` distinct keys', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }),
        (cap, keys) => {
          const ids = new RecentIds(cap);
          const order: string[] = [];
          for (const k of keys.map(String)) {
            const fresh = ids.add(k);
            expect(fresh).toBe(!order.includes(k));
            if (fresh) {
              order.push(k);
              if (order.length > cap) order.shift();
            }
            expect(ids.size).toBe(order.length);
          }
        },
      ),
    );
  });

  it('keys trades by source, symbol and trade id without ambiguity', () => {
    expect(tradeKey('binance', 'BTCUSDT', '1')).not.toBe(tradeKey('binance', 'BTCUSD', 'T1'));
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});

describe('SkewEstimator', () => {
  it('is null before any sample and the median afterwards', () => {
    const s = new SkewEstimator(5);
    expect(s.median).toBeNull();
    s.observe(1_000_150, 1_000_000);
    expect(s.median).toBe(150);
    s.add(50);
    expect(s.median).toBe(100);
    s.add(400);
    s.add(NaN); // ignored
    expect(s.count).toBe(3);
    expect(s.median).toBe(150);
  });

  it('is robust to outliers (a stall, a burst)', () => {
    const s = new SkewEstimator(9);
    for (const v of [20, 21, 19, 22, 20, 5_000, 20, 18, -3_000]) s.add(v);
    expect(s.median).toBe(20);
  });

  it('equals the median of the last `window` samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 100 }),
        (window, samples) => {
          const s = new SkewEstimator(window);
          for (const v of samples) s.add(v);
          const last = samples.slice(-window).sort((a, b) => a - b);
          const mid = last.length >>> 1;
          const expected =
            last.length % 2 ? last[mid] : ((last[mid - 1] as number) + (last[mid] as number)) / 2;
          expect(s.median).toBe(expected);
        },
      ),
    );
  });
});

describe('WindowLimiter', () => {
  it('allows `limit` events per sliding window and says how long to wait', () => {
    const l = new WindowLimiter(3, 1000);
    expect([l.take(0), l.take(10), l.take(20)]).toEqual([0, 0, 0]);
    expect(l.take(30)).toBe(970);
    expect(l.delayMs(999)).toBe(1);
    expect(l.take(1000)).toBe(0);
    expect(l.take(1000)).toBe(10);
    expect(l.take(1010)).toBe(0);
  });

  it('never lets more than `limit` events into any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 100 }),
        (limit, gaps) => {
          const l = new WindowLimiter(limit, 100);
          const accepted: number[] = [];
          let t = 0;
          for (const g of gaps) {
            t += g;
            if (l.take(t) === 0) accepted.push(t);
          }
          for (const a of accepted)
            expect(accepted.filter((b) => b >= a && b < a + 100).length).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });

  it('matches the published Binance limits', () => {
    expect(BINANCE_LIMITS).toMatchObject({
      streamsPerConnection: 1024,
      controlMessagesPerSecond: 5,
      connectionsPerWindow: 300,
    });
  });
});

describe('redact and Retry-After', () => {
  it('removes secrets and token query values', () => {
    expect(redact('wss://ws.finnhub.io/?token=abc123&x=1', [])).toBe('wss://ws.finnhub.io/?token=***&x=1');
    expect(redact('bad key s3cr3t-key rejected', ['s3cr3t-key'])).toBe('bad key *** rejected');
  });

  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(undefined)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', Date.UTC(2026, 0, 1))).toBe(10_000);
    expect(retryAfterMs('soon')).toBe(0);
    expect(retryAfterMs('999999')).toBe(3_600_000);
  });
});

describe('Binance protocol', () => {
  it('builds the combined-stream URL with lower-case stream names', () => {
    expect(binanceStreamUrl('wss://stream.binance.com:9443', ['BTCUSDT', 'ETHUSDT'])).toBe(
      'wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade',
    );
    expect(binanceStreamUrl('ws://127.0.0.1:1234/', ['BNBUSDT'])).toBe(
      'ws://127.0.0.1:1234/stream?streams=bnbusdt@trade',
    );
    expect(() => binanceStreamUrl('https://x', ['BTCUSDT'])).toThrow(/ws:\/\//);
  });

  it('shards more than 1024 streams over several connections', () => {
    const symbols = Array.from({ length: 2500 }, (_, i) => `S${i}USDT`);
    const protocols = binanceProtocols({ symbols, baseUrl: 'ws://h:1' });
    expect(protocols.map((p) => p.label)).toEqual(['binance[1/3]', 'binance[2/3]', 'binance[3/3]']);
    expect(protocols.map((p) => new URL(p.url()).searchParams.get('streams')?.split('/').length)).toEqual([
      1024, 1024, 452,
    ]);
    expect(binanceProtocols({ symbols: ['BTCUSDT', 'BTCUSDT'] })).toHaveLength(1);
    expect(() => binanceProtocols({ symbols: ['BTC-USD'] })).toThrow(/BTC-USD/);
  });

  it('maps trade events exactly like the replay parser, and classifies other frames', () => {
    const frame =
      '{"stream":"btcusdt@trade","data":{"e":"trade","E":1767623400124,"s":"BTCUSDT","t":4100000001,"p":"95000.12000000","q":"0.00150000","T":1767623400123,"m":true,"M":true}}';
    const out = parseBinanceFrame(frame);
    const replay = parseBinanceLine(frame);
    expect(out).toEqual({ kind: 'trades', trades: replay.ok ? replay.trades : [], rejected: [] });
    expect(out.kind === 'trades' && out.trades[0]).toEqual({
      symbol: 'BTCUSDT',
      price: 95000.12,
      size: 0.0015,
      eventTimeUs: 1_767_623_400_123_000,
      ingestTimeUs: 1_767_623_400_123_000,
      source: 'binance',
      tradeId: '4100000001',
    });
    expect(parseBinanceFrame('{"result":null,"id":1}')).toEqual({ kind: 'control' });
    expect(parseBinanceFrame('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}')).toEqual({
      kind: 'control',
    });
    expect(parseBinanceFrame('{"error":{"code":2,"msg":"Invalid request"},"id":1}')).toEqual({
      kind: 'error',
      message: 'Binance error 2: Invalid request',
      fatal: false,
    });
    expect(parseBinanceFrame('not json').kind).toBe('malformed');
    expect(parseBinanceFrame('{"stream":"x@trade","data":{"e":"trade","s":"BTCUSDT","p":"-1"}}').kind).toBe(
      'malformed',
    );
  });

  it('treats a geo-block as fatal and rate limits or server errors as retryable', () => {
    const [p] = binanceProtocols({ symbols: ['BTCUSDT'] });
    expect(p?.upgradeRejected(451, true)).toMatch(/451/);
    expect(p?.upgradeRejected(429, false)).toBeNull();
    expect(p?.upgradeRejected(418, false)).toBeNull();
    expect(p?.upgradeRejected(503, false)).toBeNull();
    expect(p?.upgradeRejected(404, false)).toMatch(/BINANCE_WS_URL/);
    expect(p?.upgradeRejected(404, true)).toBeNull();
    expect(p?.closed(1008, '', true)).toBeNull();
  });
});

describe('Finnhub protocol', () => {
  const key = 'sk-test-1234567890';

  it('puts the key in the URL but never in the displayed URL or messages', () => {
    expect(finnhubUrl('wss://ws.finnhub.io', key)).toBe(`wss://ws.finnhub.io/?token=${key}`);
    const p = finnhubProtocol({ symbols: ['AAPL', 'MSFT', 'AAPL'], apiKey: key });
    expect(p.displayUrl()).toBe('wss://ws.finnhub.io/?token=***');
    expect(p.subscribeMessages()).toEqual([
      '{"type":"subscribe","symbol":"AAPL"}',
      '{"type":"subscribe","symbol":"MSFT"}',
    ]);
    for (const m of [
      p.upgradeRejected(401, false),
      p.upgradeRejected(403, true),
      p.closed(1008, `bad ${key}`, true),
    ]) {
      expect(m).toMatch(/FINNHUB_API_KEY/);
      expect(m).not.toContain(key);
    }
    expect(p.upgradeRejected(429, false)).toBeNull();
    expect(p.closed(1008, '', false)).toBeNull();
    expect(p.closed(1006, '', true)).toBeNull();
    expect(() => finnhubProtocol({ symbols: ['AAPL'], apiKey: '' })).toThrow(/FINNHUB_API_KEY/);
  });

  it('maps trade frames exactly like the replay parser', () => {
    const frame =
      '{"data":[{"c":["1","12"],"p":230.15,"s":"AAPL","t":1767623400123,"v":100},{"p":420.5,"s":"MSFT","t":1767623400124,"v":3}],"type":"trade"}';
    const out = parseFinnhubFrame(frame);
    const replay = parseFinnhubLine(frame);
    expect(out).toEqual({ kind: 'trades', trades: replay.ok ? replay.trades : [], rejected: [] });
    expect(out.kind === 'trades' && out.trades[1]).toEqual({
      symbol: 'MSFT',
      price: 420.5,
      size: 3,
      eventTimeUs: 1_767_623_400_124_000,
      ingestTimeUs: 1_767_623_400_124_000,
      source: 'finnhub',
      tradeId: finnhubTradeId('MSFT', 1_767_623_400_124, 420.5, 3, 1),
    });
  });

  it('classifies ping, error and malformed frames; auth errors are fatal', () => {
    expect(parseFinnhubFrame('{"type":"ping"}')).toEqual({ kind: 'control' });
    expect(parseFinnhubFrame('{"type":"error","msg":"Invalid API key"}')).toMatchObject({
      kind: 'error',
      fatal: true,
    });
    expect(parseFinnhubFrame('{"type":"error","msg":"Subscribing to too many symbols"}')).toEqual({
      kind: 'error',
      message: 'Finnhub error: Subscribing to too many symbols',
      fatal: false,
    });
    expect(parseFinnhubFrame(`{"type":"error","msg":"token ${key} unknown"}`, [key])).toMatchObject({
      message: expect.not.stringContaining(key),
    });
    expect(parseFinnhubFrame('{"type":"trade","data":{}}').kind).toBe('malformed');
    const partly = parseFinnhubFrame(
      '{"type":"trade","data":[{"p":1,"s":"AAPL","t":1767623400123,"v":1},{"p":0,"s":"AAPL","t":1,"v":1}]}',
    );
    expect(partly.kind === 'trades' && [partly.trades.length, partly.rejected.length]).toEqual([1, 1]);
  });
});

describe('feed metrics', () => {
  it('render as Prometheus text labelled by source', () => {
    const stats = createFeedStats('binance');
    stats.connectionState = 'open';
    stats.reconnects = 2;
    stats.duplicates = 7;
    stats.skewMs = 12.5;
    stats.feedToIngestDelay.recordUs(3_000);
    const text = renderFeedMetrics(stats);
    expect(text).toContain(
      '# TYPE tickflow_feed_reconnects_total counter\ntickflow_feed_reconnects_total{source="binance"} 2\n',
    );
    expect(text).toContain('tickflow_feed_duplicates_total{source="binance"} 7\n');
    expect(text).toContain('tickflow_feed_connection_state{source="binance",state="open"} 1\n');
    expect(text).toContain('tickflow_feed_connection_state{source="binance",state="reconnecting"} 0\n');
    expect(text).toContain('tickflow_feed_clock_skew_seconds{source="binance"} 0.0125\n');
    expect(text).toContain('tickflow_feed_to_ingest_delay_seconds_count{source="binance"} 1\n');
    expect(text).toMatch(/tickflow_feed_to_ingest_delay_seconds\{source="binance",quantile="0.5"\} 0\.00\d+/);
    expect(formatFeedStats(stats)).toMatch(/^feed binance open \(0 open\).*dup 7.*reconnects 2.*skew 13ms/);
  });
});
