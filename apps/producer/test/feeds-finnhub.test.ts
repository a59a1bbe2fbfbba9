import type { Trade } from '@tickflow/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ExchangeTrade,
  FakeExchange,
  FeedFatalError,
  FINNHUB_PING,
  finnhubProtocol,
  finnhubTradeFrame,
  LiveFeed,
  syntheticTape,
} from '../src/feeds/index.ts';
import { finnhubTradeId } from '../src/sources/replay.ts';
import { captureLogger, fastConnection, retries, take, until } from './feeds-support.ts';

const KEY = 'fh-secret-KEY-0123456789';
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA'];
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function exchange(apiKey: string | undefined = KEY): Promise<FakeExchange> {
  const ex = await FakeExchange.start({ protocol: 'finnhub', ...(apiKey ? { apiKey } : {}) });
  cleanup.push(() => ex.stop());
  return ex;
}

function feedFor(
  ex: FakeExchange,
  apiKey = KEY,
  lines: string[] = [],
  onRetry?: (r: unknown) => void,
): LiveFeed {
  const feed = new LiveFeed({
    protocols: [finnhubProtocol({ symbols: SYMBOLS, apiKey, baseUrl: ex.url })],
    connection: fastConnection(onRetry ? { onRetry } : {}),
    log: captureLogger(lines),
  });
  cleanup.push(() => feed.close());
  return feed.start();
}

/** Frames of 1-4 trades, like Finnhub batches them. */
function frames(tape: readonly ExchangeTrade[]): ExchangeTrade[][] {
  const out: ExchangeTrade[][] = [];
  for (let i = 0, n = 1; i < tape.length; i += n, n = (n % 4) + 1) out.push(tape.slice(i, i + n));
  return out;
}

function expected(batches: readonly ExchangeTrade[][]): Trade[] {
  return batches.flatMap((batch) =>
    batch.map((t, index) => ({
      symbol: t.symbol,
      price: t.price,
      size: t.size,
      eventTimeUs: t.timeMs * 1000,
      ingestTimeUs: t.timeMs * 1000,
      source: 'finnhub',
      tradeId: finnhubTradeId(t.symbol, t.timeMs, t.price, t.size, index),
    })),
  );
}

describe('Finnhub live feed against a local fake exchange', () => {
  it('authenticates with the token, subscribes per symbol, ignores pings and maps trade frames', async () => {
    const ex = await exchange();
    const feed = feedFor(ex);
    const c = await ex.connection(1);
    expect(c.url.searchParams.get('token')).toBe(KEY);
    await c.subscribed(3);
    expect(c.received.map((m) => JSON.parse(m))).toEqual(
      SYMBOLS.map((symbol) => ({ type: 'subscribe', symbol })),
    );
    const batches = frames(syntheticTape({ symbols: SYMBOLS, count: 40 }));
    batches.forEach((b, i) => {
      c.send(finnhubTradeFrame(b));
      if (i % 3 === 0) c.send(FINNHUB_PING);
    });
    expect(await take(feed, 40)).toEqual(expected(batches));
    expect(feed.stats).toMatchObject({
      source: 'finnhub',
      trades: 40,
      duplicates: 0,
      malformed: 0,
      connectionState: 'open',
    });
    expect(feed.stats.messages).toBe(batches.length + Math.ceil(batches.length / 3));
  });

  it('resubscribes after a reconnect and emits frames repeated after it only once', async () => {
    const ex = await exchange();
    const batches = frames(syntheticTape({ symbols: SYMBOLS, count: 60 }));
    ex.onConnection = async (c) => {
      await c.subscribed(3);
      if (c.id === 1) {
        for (const b of batches.slice(0, 15)) c.send(finnhubTradeFrame(b));
        setTimeout(() => c.drop(), 20);
      } else {
        for (const b of batches.slice(10)) c.send(finnhubTradeFrame(b));
      }
    };
    const feed = feedFor(ex);
    expect(await take(feed, 60)).toEqual(expected(batches));
    expect(ex.clients[1]?.subscriptions).toEqual(SYMBOLS);
    const repeated = batches.slice(10, 15).reduce((n, b) => n + b.length, 0);
    await until('the repeats', () => feed.stats.trades === 60 + repeated);
    expect(feed.stats).toMatchObject({ reconnects: 1, duplicates: repeated });
  });

  it('a key rejected on the upgrade (HTTP 401) is fatal at once, with a clear message that never shows the key', async () => {
    const ex = await exchange('the-right-key');
    const lines: string[] = [];
    const feed = feedFor(ex, KEY, lines);
    const error = await feed.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedFatalError);
    expect((error as Error).message).toBe(
      'Finnhub rejected the API key (HTTP 401 on the WebSocket upgrade): check FINNHUB_API_KEY',
    );
    expect(feed.stats.connectionState).toBe('failed');
    expect(feed.stats.connectAttempts).toBe(1);
    expect(lines.join('\n')).toContain('FINNHUB_API_KEY');
    expect(JSON.stringify({ lines, stats: feed.stats, error: String(error) })).not.toContain(KEY);
  });

  it('an error frame about the key is fatal too', async () => {
    const ex = await exchange(undefined);
    ex.onConnection = (c) => c.send(`{"type":"error","msg":"Invalid API key ${KEY}"}`);
    const lines: string[] = [];
    const feed = feedFor(ex, KEY, lines);
    const error = (await feed.next().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(FeedFatalError);
    expect(error.message).toMatch(/Finnhub rejected the API key .*check FINNHUB_API_KEY/);
    expect(JSON.stringify({ lines, m: error.message, s: feed.stats })).not.toContain(KEY);
    expect(ex.clients).toHaveLength(1);
  });

  it('an immediate close with a policy code at start-up is fatal', async () => {
    const ex = await exchange(undefined);
    ex.onConnection = (c) => c.close(1008, 'invalid token');
    const feed = feedFor(ex);
    const error = (await feed.next().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(FeedFatalError);
    expect(error.message).toBe(
      'Finnhub closed the connection before sending anything (code 1008: invalid token); the API key was probably rejected: check FINNHUB_API_KEY',
    );
  });

  it('after data has flowed, a policy close or a non-auth error frame is not fatal: counted and retried', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: SYMBOLS, count: 6 });
    ex.onConnection = async (c) => {
      await c.subscribed(3);
      if (c.id === 1) {
        c.send(finnhubTradeFrame(tape.slice(0, 3)));
        c.send('{"type":"error","msg":"Subscribing to too many symbols"}');
        setTimeout(() => c.close(1008, 'policy'), 20);
      } else {
        c.send(finnhubTradeFrame(tape.slice(3)));
      }
    };
    const r = retries();
    const lines: string[] = [];
    const feed = feedFor(ex, KEY, lines, r.onRetry as (x: unknown) => void);
    expect((await take(feed, 6)).map((t) => t.symbol)).toEqual(tape.map((t) => t.symbol));
    expect(feed.stats).toMatchObject({ errorFrames: 1, reconnects: 1 });
    expect(lines.some((l) => l.includes('Finnhub error: Subscribing to too many symbols'))).toBe(true);
    expect(r.list[0]?.reason).toBe('code 1008 policy violation: policy');
  });

  it('skips malformed frames and bad trades inside a frame, keeping their neighbours', async () => {
    const ex = await exchange();
    const feed = feedFor(ex);
    const c = await ex.connection(1);
    await c.subscribed(3);
    const [a, b] = syntheticTape({ symbols: SYMBOLS, count: 2 });
    if (!a || !b) throw new Error('tape');
    c.send('{"type":"trade","data":"nope"}');
    c.send('{"type":');
    c.send('{"nothing":1}');
    c.send(
      JSON.stringify({
        type: 'trade',
        data: [
          { p: a.price, s: a.symbol, t: a.timeMs, v: a.size },
          { p: -1, s: 'AAPL', t: 1, v: 1 },
        ],
      }),
    );
    c.send(finnhubTradeFrame([b]));
    const got = await take(feed, 2);
    expect(got.map((t) => [t.symbol, t.price])).toEqual([
      [a.symbol, a.price],
      [b.symbol, b.price],
    ]);
    expect(feed.stats.malformed).toBe(4);
    expect(feed.stats.connects).toBe(1);
  });
});
