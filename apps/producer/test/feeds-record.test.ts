import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Trade } from '@tickflow/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  binanceProtocols,
  binanceTradeFrame,
  FakeExchange,
  FINNHUB_PING,
  FrameRecorder,
  finnhubProtocol,
  finnhubTradeFrame,
  LiveFeed,
  syntheticTape,
} from '../src/feeds/index.ts';
import { createReplayStats, type ReplayFormat, readReplayFile } from '../src/sources/replay.ts';
import { captureLogger, fastConnection, take, until } from './feeds-support.ts';

let dir: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tickflow-record-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function replay(file: string, format: ReplayFormat) {
  const stats = createReplayStats();
  const trades: Trade[] = [];
  for await (const t of readReplayFile(file, format, { stats })) trades.push(t);
  return { trades, stats };
}

describe('--record then --source replay', () => {
  it('Binance: replaying the recording yields exactly the trades the live session forwarded', async () => {
    const ex = await FakeExchange.start({ protocol: 'binance' });
    cleanup.push(() => ex.stop());
    const tape = syntheticTape({ symbols: ['BTCUSDT', 'ETHUSDT'], count: 120 });
    ex.onConnection = (c) => {
      const part = c.id === 1 ? tape.slice(0, 70) : tape.slice(50);
      part.forEach((t, i) => {
        c.send(binanceTradeFrame(t));
        if (i === 5) c.send('{"result":null,"id":1}');
        if (i === 9) c.send('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}');
        // A pretty-printed frame: recorded on one line, same JSON.
        if (i === 12 && c.id === 1) c.send('{\n  "result": null,\n  "id": 2\n}');
      });
      if (c.id === 1) setTimeout(() => c.drop(), 20);
    };
    const file = join(dir, 'binance.jsonl');
    const feed = new LiveFeed({
      protocols: binanceProtocols({ symbols: ['BTCUSDT', 'ETHUSDT'], baseUrl: ex.url }),
      connection: fastConnection(),
      recorder: await FrameRecorder.open(file),
      log: captureLogger(),
    }).start();
    cleanup.push(() => feed.close());
    const live = await take(feed, 120);
    await until('the repeated frames', () => feed.stats.trades === 140);
    await feed.close();

    const { trades, stats } = await replay(file, 'binance');
    expect(trades).toEqual(live);
    expect(stats.malformed).toBe(feed.stats.malformed);
    expect(feed.stats.duplicates).toBe(20);
    // Every frame but the 20 that only repeated trades, one line each.
    const lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
    expect(lines).toHaveLength(feed.stats.messages - 20);
    expect(lines).toHaveLength(feed.stats.recorded);
    expect(lines).toContain('{   "result": null,   "id": 2 }');
  });

  it('Finnhub: replaying the recording yields exactly the live trades; pings and errors are kept but inert', async () => {
    const ex = await FakeExchange.start({ protocol: 'finnhub', apiKey: 'k' });
    cleanup.push(() => ex.stop());
    const tape = syntheticTape({ symbols: ['AAPL', 'MSFT'], count: 90 });
    const batches: (typeof tape)[] = [];
    for (let i = 0; i < tape.length; i += 3) batches.push(tape.slice(i, i + 3));
    ex.onConnection = async (c) => {
      await c.subscribed(2);
      const part = c.id === 1 ? batches.slice(0, 20) : batches.slice(15);
      part.forEach((b, i) => {
        c.send(finnhubTradeFrame(b));
        if (i % 4 === 0) c.send(FINNHUB_PING);
        if (i === 7) c.send('{"type":"error","msg":"Subscribing to too many symbols"}');
        if (i === 8) c.send('not json');
      });
      if (c.id === 1) setTimeout(() => c.drop(), 20);
    };
    const file = join(dir, 'finnhub.jsonl');
    const feed = new LiveFeed({
      protocols: [finnhubProtocol({ symbols: ['AAPL', 'MSFT'], apiKey: 'k', baseUrl: ex.url })],
      connection: fastConnection(),
      recorder: await FrameRecorder.open(file),
      log: captureLogger(),
    }).start();
    cleanup.push(() => feed.close());
    const live = await take(feed, 90);
    await until('the repeated frames', () => feed.stats.trades === 105);
    await feed.close();

    const { trades, stats } = await replay(file, 'finnhub');
    expect(trades).toEqual(live);
    expect(stats.malformed).toBe(feed.stats.malformed);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('token');
    expect(text.split('\n').filter((l) => l === FINNHUB_PING).length).toBeGreaterThan(0);
  });

  it('never writes the API key, even when the exchange echoes it in a frame', async () => {
    const key = 'echoed-key-42';
    const ex = await FakeExchange.start({ protocol: 'finnhub', apiKey: key });
    cleanup.push(() => ex.stop());
    ex.onConnection = async (c) => {
      await c.subscribed(1);
      c.send(`{"type":"error","msg":"Subscription limit reached for key ${key}"}`);
      c.send(finnhubTradeFrame(syntheticTape({ symbols: ['AAPL'], count: 1 })));
    };
    const file = join(dir, 'echo.jsonl');
    const feed = new LiveFeed({
      protocols: [finnhubProtocol({ symbols: ['AAPL'], apiKey: key, baseUrl: ex.url })],
      connection: fastConnection(),
      recorder: await FrameRecorder.open(file),
      log: captureLogger(),
    }).start();
    cleanup.push(() => feed.close());
    await take(feed, 1);
    await feed.close();
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"Subscription limit reached for key ***"');
    expect(text).not.toContain(key);
  });

  it('refuses at start-up to record into a file it cannot open', async () => {
    await expect(FrameRecorder.open(join(dir, 'missing-dir', 'x.jsonl'))).rejects.toThrow(
      /cannot open --record file/,
    );
  });
});
