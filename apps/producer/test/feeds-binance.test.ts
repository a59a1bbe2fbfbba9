import { afterEach, describe, expect, it } from 'vitest';
import {
  binanceProtocols,
  binanceTradeFrame,
  type FakeClient,
  FakeExchange,
  type FeedConnectionOptions,
  LiveFeed,
  type LiveFeedOptions,
  syntheticTape,
  WindowLimiter,
} from '../src/feeds/index.ts';
import { binanceTrade, captureLogger, fastConnection, retries, sleep, take, until } from './feeds-support.ts';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function exchange(autoPong = true): Promise<FakeExchange> {
  const ex = await FakeExchange.start({ protocol: 'binance', autoPong });
  cleanup.push(() => ex.stop());
  return ex;
}

function feedFor(
  ex: FakeExchange,
  connection: Partial<FeedConnectionOptions> = {},
  extra: Partial<LiveFeedOptions> = {},
): LiveFeed {
  const feed = new LiveFeed({
    protocols: binanceProtocols({ symbols: SYMBOLS, baseUrl: ex.url }),
    connection: fastConnection(connection),
    log: captureLogger(),
    ...extra,
  });
  cleanup.push(() => feed.close());
  return feed.start();
}

const send = (c: FakeClient, trades: ReturnType<typeof syntheticTape>) => {
  for (const t of trades) c.send(binanceTradeFrame(t));
};

describe('Binance live feed against a local fake exchange', () => {
  it('subscribes through the combined-stream URL and maps frames to contract trades', async () => {
    const ex = await exchange();
    const feed = feedFor(ex);
    const c = await ex.connection(1);
    expect(c.url.pathname).toBe('/stream');
    expect(c.streams).toEqual(['btcusdt@trade', 'ethusdt@trade']);
    const tape = syntheticTape({ symbols: SYMBOLS, count: 60 });
    send(c, tape);
    expect(await take(feed, 60)).toEqual(tape.map(binanceTrade));
    expect(feed.stats).toMatchObject({
      source: 'binance',
      connectionState: 'open',
      openConnections: 1,
      connects: 1,
      reconnects: 0,
      messages: 60,
      trades: 60,
      forwarded: 60,
      duplicates: 0,
      malformed: 0,
      dropped: 0,
    });
    expect(typeof feed.stats.skewMs).toBe('number');
    expect(c.received).toEqual([]); // subscriptions travel in the URL: no control messages
  });

  it('reconnects after a dropped connection and emits trades repeated after the reconnect only once', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: SYMBOLS, count: 80 });
    ex.onConnection = (c) => {
      if (c.id === 1) {
        send(c, tape.slice(0, 40));
        setTimeout(() => c.drop(), 20);
      } else {
        send(c, tape.slice(25)); // the exchange repeats what it had sent before the drop
      }
    };
    const r = retries();
    const feed = feedFor(ex, { onRetry: r.onRetry });
    expect(await take(feed, 80)).toEqual(tape.map(binanceTrade));
    await until('the repeats to arrive', () => feed.stats.trades === 95);
    expect(feed.stats).toMatchObject({
      reconnects: 1,
      duplicates: 15,
      forwarded: 80,
      connectionState: 'open',
    });
    expect(r.list).toHaveLength(1);
    expect(r.list[0]?.reason).toMatch(/1006/);
  });

  it('backs off exponentially across error close codes and refused upgrades, then recovers', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: SYMBOLS, count: 10 });
    const codes = [1011, 1001, 4000];
    ex.onConnection = (c) => {
      const code = codes[c.id - 1];
      if (code !== undefined) c.close(code, `test ${code}`);
      else send(c, tape);
    };
    const r = retries();
    const feed = feedFor(ex, { onRetry: r.onRetry });
    expect(await take(feed, 10)).toEqual(tape.map(binanceTrade));
    expect(r.list.map((x) => x.delayMs)).toEqual([10, 20, 40]);
    expect(r.list.map((x) => x.reason)).toEqual([
      'code 1011 server error: test 1011',
      'code 1001 going away: test 1001',
      'code 4000 closed: test 4000',
    ]);
    expect(feed.stats).toMatchObject({ connects: 4, reconnects: 3, connectionState: 'open' });

    // Now the exchange refuses upgrades for a while (HTTP 503): retried with the delay capped at 80 ms.
    ex.rejectUpgrades(503);
    ex.clients[3]?.drop();
    await until('five refused attempts', () => feed.stats.connectFailures >= 5);
    ex.rejectUpgrades(null);
    await until('recovery', () => feed.stats.connectionState === 'open' && feed.stats.connects === 5);
    expect(r.list.slice(3, 9).map((x) => x.delayMs)).toEqual([80, 80, 80, 80, 80, 80]);
    expect(r.list[4]?.reason).toBe('HTTP 503 on the WebSocket upgrade');
  });

  it('resets the backoff after a connection that stayed up, so a routine server disconnect is a quick reconnect', async () => {
    const ex = await exchange();
    const r = retries();
    const feed = feedFor(ex, { onRetry: r.onRetry, stableAfterMs: 30 });
    ex.onConnection = (c) => {
      if (c.id <= 3) setTimeout(() => c.close(1000, 'connection lifetime exceeded'), 60);
    };
    await until('four connections', () => feed.stats.connects === 4);
    expect(r.list.map((x) => [x.attempt, x.delayMs])).toEqual([
      [0, 10],
      [0, 10],
      [0, 10],
    ]);
  });

  it('detects a silent stall (no data, no pong) with the idle timeout and reconnects', async () => {
    const ex = await exchange(false); // a half-open connection: pings go unanswered
    const tape = syntheticTape({ symbols: SYMBOLS, count: 10 });
    ex.onConnection = (c) => send(c, c.id === 1 ? tape.slice(0, 5) : tape.slice(5));
    const feed = feedFor(ex, { idleTimeoutMs: 150 });
    expect(await take(feed, 10)).toEqual(tape.map(binanceTrade));
    expect(feed.stats.idleTimeouts).toBeGreaterThanOrEqual(1);
    expect(feed.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(feed.stats.lastError).toMatch(/idle timeout/);
  });

  it('keeps a quiet but healthy connection: the heartbeat ping is answered', async () => {
    const ex = await exchange(true);
    const feed = feedFor(ex, { idleTimeoutMs: 200 });
    await ex.connection(1);
    let pings = 0;
    ex.clients[0]?.socket.on('ping', () => pings++);
    await until('several heartbeats', () => pings >= 3);
    expect(feed.stats).toMatchObject({ idleTimeouts: 0, connects: 1, connectionState: 'open' });
  });

  it('counts and skips malformed and binary frames without losing the good ones or the connection', async () => {
    const ex = await exchange();
    const feed = feedFor(ex);
    const c = await ex.connection(1);
    const [a, b, d] = syntheticTape({ symbols: SYMBOLS, count: 3 });
    if (!a || !b || !d) throw new Error('tape');
    c.send(binanceTradeFrame(a));
    c.send('garbage{');
    c.send('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"abc","q":"1","T":1}}');
    c.send('[1,2,3]');
    c.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    c.send('{"result":null,"id":1}');
    c.send(binanceTradeFrame(b));
    c.send('{"stream":"btcusdt@kline_1m","data":{"e":"kline"}}');
    c.send(binanceTradeFrame(d));
    expect(await take(feed, 3)).toEqual([a, b, d].map(binanceTrade));
    await until('every frame', () => feed.stats.messages === 9);
    expect(feed.stats).toMatchObject({ malformed: 4, trades: 3, connects: 1, reconnects: 0 });
  });

  it('passes out-of-order trades through with their own event time and counts them', async () => {
    const ex = await exchange();
    const feed = feedFor(ex);
    const c = await ex.connection(1);
    const tape = syntheticTape({ symbols: ['BTCUSDT'], count: 4 });
    const shuffled = [tape[0], tape[2], tape[1], tape[3]].filter((t) => t !== undefined);
    send(c, shuffled);
    expect(await take(feed, 4)).toEqual(shuffled.map(binanceTrade));
    expect(feed.stats.outOfOrder).toBe(1);
  });

  it('keeps reading when the consumer stalls: a bounded buffer, the excess dropped and counted', async () => {
    const ex = await exchange();
    const feed = feedFor(ex, {}, { bufferCapacity: 10 });
    const c = await ex.connection(1);
    const tape = syntheticTape({ symbols: SYMBOLS, count: 30 });
    send(c, tape);
    await until('all frames read', () => feed.stats.messages === 30);
    expect(feed.stats).toMatchObject({ forwarded: 10, dropped: 20 });
    expect(feed.buffered).toBe(10);
    expect(await take(feed, 10)).toEqual(tape.slice(0, 10).map(binanceTrade));
  });

  it('rotates before the maximum connection age: new connection first, no gap, no duplicates, no reconnect', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: ['BTCUSDT'], count: 20_000, stepMs: 1 });
    let overlapping = 0;
    ex.onConnection = () => {
      if (ex.openClients.length >= 2) overlapping++;
    };
    const feed = new LiveFeed({
      protocols: binanceProtocols({ symbols: ['BTCUSDT'], baseUrl: ex.url }),
      connection: fastConnection({ maxConnectionAgeMs: 150, rotationOverlapMs: 40 }),
      log: captureLogger(),
    });
    cleanup.push(() => feed.close());
    feed.start();
    await ex.connection(1);
    // The exchange's tape: every open connection gets the same trades, in order.
    let next = 0;
    const ticker = setInterval(() => {
      for (let i = 0; i < 3 && next < tape.length; i++)
        ex.broadcast(binanceTradeFrame(tape[next++] as (typeof tape)[0]));
    }, 2);
    const received: string[] = [];
    const consumer = (async () => {
      for (;;) {
        const r = await feed.next();
        if (r.done) return;
        received.push(r.value.tradeId);
      }
    })();
    await until('three rotations', () => feed.stats.rotations >= 3, 10_000);
    clearInterval(ticker);
    const sent = next;
    await until('the tail', () => received.length === sent, 4_000);
    await feed.close();
    await consumer;
    expect(received).toEqual(tape.slice(0, sent).map((t) => String(t.id)));
    expect(feed.stats.duplicates).toBeGreaterThan(0); // the overlap, absorbed
    expect(feed.stats.reconnects).toBe(0);
    expect(feed.stats.rotations).toBeGreaterThanOrEqual(3);
    expect(overlapping).toBe(ex.clients.length - 1);
  });

  it('switches to the replacement without a gap when the old connection dies during the overlap', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: ['BTCUSDT'], count: 20_000, stepMs: 1 });
    ex.onConnection = (c) => {
      // The moment the replacement arrives, the exchange kills the old connection.
      if (c.id === 2) ex.clients[0]?.drop();
    };
    const feed = feedFor(ex, { maxConnectionAgeMs: 100, rotationOverlapMs: 10_000 });
    await ex.connection(1);
    let next = 0;
    const ticker = setInterval(() => {
      for (let i = 0; i < 3 && next < tape.length; i++)
        ex.broadcast(binanceTradeFrame(tape[next++] as (typeof tape)[0]));
    }, 2);
    const received: string[] = [];
    const consumer = (async () => {
      for (;;) {
        const r = await feed.next();
        if (r.done) return;
        received.push(r.value.tradeId);
      }
    })();
    await until('the replacement to take over', () => feed.stats.rotations === 1);
    await sleep(50);
    clearInterval(ticker);
    const sent = next;
    await until('the tail', () => received.length === sent);
    await feed.close();
    await consumer;
    expect(received).toEqual(tape.slice(0, sent).map((t) => String(t.id)));
    expect(feed.stats).toMatchObject({ reconnects: 0, rotations: 1, connects: 2 });
    expect(ex.clients).toHaveLength(2);
  });

  it('keeps the current connection when the replacement cannot open, and rotates once it can', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: SYMBOLS, count: 40 });
    const r = retries();
    const feed = feedFor(ex, { maxConnectionAgeMs: 60, rotationOverlapMs: 20, onRetry: r.onRetry });
    const first = await ex.connection(1);
    ex.rejectUpgrades(503);
    await until('three failed replacements', () => feed.stats.connectFailures >= 3);
    expect(feed.stats).toMatchObject({
      connectionState: 'open',
      openConnections: 1,
      rotations: 0,
      reconnects: 0,
    });
    send(first, tape.slice(0, 20)); // still streaming on the old connection
    expect(await take(feed, 20)).toEqual(tape.slice(0, 20).map(binanceTrade));
    ex.rejectUpgrades(null);
    await until('the rotation', () => feed.stats.rotations === 1 && first.open === false);
    send(ex.clients[ex.clients.length - 1] as FakeClient, tape.slice(20));
    expect(await take(feed, 20)).toEqual(tape.slice(20).map(binanceTrade));
    expect(r.list).toEqual([]); // never a reconnect: the feed was never down
  });

  it('survives the exchange closing the connection (the 24 h cut) with one quick reconnect', async () => {
    const ex = await exchange();
    const tape = syntheticTape({ symbols: SYMBOLS, count: 20 });
    ex.onConnection = (c) => {
      if (c.id === 1) {
        send(c, tape.slice(0, 10));
        setTimeout(() => c.close(1000, ''), 20);
      } else {
        send(c, tape.slice(10));
      }
    };
    const r = retries();
    const feed = feedFor(ex, { onRetry: r.onRetry });
    expect(await take(feed, 20)).toEqual(tape.map(binanceTrade));
    expect(r.list).toEqual([{ attempt: 0, delayMs: 10, reason: 'code 1000 normal closure' }]);
  });

  it('respects the connection-rate limit however fast the exchange drops connections', async () => {
    const ex = await exchange();
    const opened: number[] = [];
    ex.onConnection = (c) => {
      opened.push(performance.now());
      c.drop();
    };
    const lines: string[] = [];
    const feed = new LiveFeed({
      protocols: binanceProtocols({ symbols: SYMBOLS, baseUrl: ex.url }),
      connection: fastConnection({
        backoff: { initialMs: 1, maxMs: 1, jitter: 0 },
        connectLimiter: new WindowLimiter(2, 300),
      }),
      log: captureLogger(lines),
    });
    cleanup.push(() => feed.close());
    const t0 = performance.now();
    feed.start();
    await until('five connections', () => opened.length >= 5, 5_000);
    // At most 2 attempts per 300 ms: the 3rd cannot start before t0 + 300 ms, the 5th before t0 + 600 ms.
    expect((opened[2] as number) - t0).toBeGreaterThanOrEqual(300);
    expect((opened[4] as number) - t0).toBeGreaterThanOrEqual(600);
    expect(lines.some((l) => l.includes('connection rate limit reached'))).toBe(true);
  });

  it('closes cleanly on abort: the iterator ends and no reconnect follows', async () => {
    const ex = await exchange();
    const abort = new AbortController();
    const feed = feedFor(ex, {}, { signal: abort.signal });
    await ex.connection(1);
    const pending = feed.next();
    abort.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    await feed.close();
    await sleep(50);
    expect(ex.clients).toHaveLength(1);
    expect(feed.stats.connectionState).toBe('closed');
  });
});
