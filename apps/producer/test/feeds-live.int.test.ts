import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTrade, type Trade } from '@tickflow/contracts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCli, waitFor } from '../../../test/support/cli.ts';
import { readTopic } from '../../../test/support/kafka.ts';
import { binanceTradeFrame, FakeExchange, syntheticTape } from '../src/feeds/index.ts';

const stack = inject('stack');
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

async function topicTrades(topic: string, count: number): Promise<Trade[]> {
  const messages = await readTopic(stack.brokers, topic, count);
  return messages.map((m) => {
    const r = decodeTrade(m.value);
    if (!r.ok) throw new Error(`undecodable message on ${topic}: ${r.error}`);
    expect(m.key?.toString()).toBe(r.trade.symbol);
    return r.trade;
  });
}

/** Per-symbol sequences (Kafka orders within a partition, and a symbol lives in one partition). */
function bySymbol(trades: readonly Trade[]): Record<string, Omit<Trade, 'ingestTimeUs'>[]> {
  const out: Record<string, Omit<Trade, 'ingestTimeUs'>[]> = {};
  for (const { ingestTimeUs: _, ...t } of trades) {
    const list = out[t.symbol] ?? [];
    list.push(t);
    out[t.symbol] = list;
  }
  return out;
}

describe('tickflow produce --source binance (fake exchange) into real Kafka', () => {
  let ex: FakeExchange;
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-live-'));
  const tape = syntheticTape({ symbols: SYMBOLS, count: 300 });

  beforeAll(async () => {
    ex = await FakeExchange.start({ protocol: 'binance' });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ex?.stop();
  });

  it('publishes every trade once despite a drop, repeats and bad frames; the recording replays identically', async () => {
    ex.onConnection = (c) => {
      if (c.id === 1) {
        tape.slice(0, 180).forEach((t, i) => {
          c.send(binanceTradeFrame(t));
          if (i === 50) c.send('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","p":"x"}}');
        });
        setTimeout(() => c.drop(), 50);
      } else {
        for (const t of tape.slice(150)) c.send(binanceTradeFrame(t));
      }
    };
    const topic = `raw-live-${randomUUID().slice(0, 8)}`;
    const record = join(dir, 'session.jsonl');
    const env = {
      KAFKA_BROKERS: stack.brokers,
      TOPIC_RAW: topic,
      BINANCE_WS_URL: ex.url,
      FEED_RECONNECT_MIN: '20ms',
      TOPIC_PARTITIONS: '3',
    };
    const run = await runCli(
      [
        'produce',
        '--source',
        'binance',
        '--symbols',
        SYMBOLS.join(','),
        '--count',
        '300',
        '--record',
        record,
      ],
      env,
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('300 acked of 300 sent');
    expect(run.output).toMatch(/30 duplicates, 1 malformed, 0 dropped/);
    expect(run.output).toMatch(/1 reconnects/);

    const live = await topicTrades(topic, 300);
    expect(live).toHaveLength(300);
    const expected = tape.map((t) => ({
      symbol: t.symbol,
      price: t.price,
      size: t.size,
      eventTimeUs: t.timeMs * 1000,
      source: 'binance',
      tradeId: String(t.id),
    }));
    expect(bySymbol(live)).toEqual(bySymbol(expected.map((t) => ({ ...t, ingestTimeUs: 0 }))));
    for (const t of live) expect(t.ingestTimeUs).toBeGreaterThan(0);

    // The same session replayed offline from the recording.
    const replayTopic = `${topic}-replay`;
    const replayed = await runCli(
      ['produce', '--source', 'replay', '--format', 'binance', '--file', record],
      {
        ...env,
        TOPIC_RAW: replayTopic,
      },
    );
    expect(replayed.code, replayed.output).toBe(0);
    expect(replayed.output).toContain('300 acked of 300 sent');
    expect(replayed.output).toContain('malformed lines 1');
    expect(bySymbol(await topicTrades(replayTopic, 300))).toEqual(bySymbol(live));
  });

  it('drains and exits 0 on SIGTERM while the feed is idle', async () => {
    ex.onConnection = (c) => {
      for (const t of tape.slice(0, 5)) c.send(binanceTradeFrame(t));
    };
    const before = ex.clients.length;
    const topic = `raw-live-${randomUUID().slice(0, 8)}`;
    const cli = startCli(['produce', '--source', 'binance', '--symbols', SYMBOLS.join(',')], {
      KAFKA_BROKERS: stack.brokers,
      TOPIC_RAW: topic,
      BINANCE_WS_URL: ex.url,
    });
    await waitFor('the connection', () => ex.clients.length > before, 60_000, 50);
    await waitFor('5 trades acked', () => /acked 5\b/.test(cli.output()), 60_000, 100);
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code, cli.output()).toBe(0);
    expect(cli.output()).toContain('5 acked of 5 sent');
    expect(await topicTrades(topic, 5)).toHaveLength(5);
  });

  it('a rejected Finnhub key is a clear start-up error that never shows the key', async () => {
    const fh = await FakeExchange.start({ protocol: 'finnhub', apiKey: 'the-valid-key' });
    try {
      const key = 'wrong-key-7d1e9c';
      const run = await runCli(['produce', '--source', 'finnhub', '--symbols', 'AAPL'], {
        KAFKA_BROKERS: stack.brokers,
        TOPIC_RAW: `raw-live-${randomUUID().slice(0, 8)}`,
        FINNHUB_WS_URL: fh.url,
        FINNHUB_API_KEY: key,
      });
      expect(run.code, run.output).toBe(1);
      expect(run.output).toContain(
        'Finnhub rejected the API key (HTTP 401 on the WebSocket upgrade): check FINNHUB_API_KEY',
      );
      expect(run.output).not.toContain(key);
      const missing = await runCli(['produce', '--source', 'finnhub'], { FINNHUB_API_KEY: '' });
      expect(missing.code).toBe(2);
      expect(missing.output).toContain('FINNHUB_API_KEY');
    } finally {
      await fh.stop();
    }
  });
});
