import { randomUUID } from 'node:crypto';
import { latestKey, type Trade } from '@tickflow/contracts';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisSink } from '../src/sinks/redis-latest.ts';

// The latest-price sink against a real Redis: one script call per batch, never moving backwards.
const stack = inject('stack');

const trade = (symbol: string, eventTimeUs: number, price: number, tradeId = String(eventTimeUs)): Trade => ({
  symbol,
  price,
  size: 1.5,
  eventTimeUs,
  ingestTimeUs: eventTimeUs,
  source: 'replay',
  tradeId,
});

describe('RedisSink against Redis', () => {
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  let sink: RedisSink;
  const redis = createClient({ url: stack.redisUrl });
  const stored = (symbol: string) => redis.hGetAll(latestKey(prefix, symbol));

  beforeAll(async () => {
    await redis.connect();
    sink = await RedisSink.connect(stack.redisUrl, prefix);
  });
  afterAll(async () => {
    await sink.close();
    await redis.close();
  });

  it('writes every symbol of a batch in one call, with the contract fields', async () => {
    const written = await sink.writeLatest([
      trade('AAPL', 1_767_364_200_123_456, 189.52),
      trade('BTCUSDT', 1_767_364_200_000_001, 95_000.01),
    ]);
    expect(written).toBe(2);
    expect(await stored('AAPL')).toEqual({
      price: '189.52',
      size: '1.5',
      event_time_us: '1767364200123456',
      source: 'replay',
      trade_id: '1767364200123456',
    });
    expect((await stored('BTCUSDT')).price).toBe('95000.01');
  });

  it('never moves a symbol backwards, per key within one call, and lets ties overwrite', async () => {
    await sink.writeLatest([trade('MSFT', 2_000_000, 420), trade('NVDA', 2_000_000, 140)]);
    const written = await sink.writeLatest([
      trade('MSFT', 1_999_999, 1), // older: ignored
      trade('NVDA', 2_000_000, 141, 'redelivered'), // same event time: overwrites
      trade('TSLA', 5, 350), // new key
    ]);
    expect(written).toBe(2);
    expect((await stored('MSFT')).price).toBe('420');
    expect(await stored('NVDA')).toMatchObject({ price: '141', trade_id: 'redelivered' });
    expect((await stored('TSLA')).price).toBe('350');
  });

  it('writes nothing for an empty batch', async () => {
    expect(await sink.writeLatest([])).toBe(0);
  });

  it('fails a call after SCRIPT FLUSH with NOSCRIPT, and the retry succeeds', async () => {
    await redis.scriptFlush();
    await expect(sink.writeLatest([trade('META', 10, 580)])).rejects.toThrow(/NOSCRIPT/);
    expect(await sink.writeLatest([trade('META', 10, 580)])).toBe(1);
  });

  it('publishes alerts as JSON on the alerts channel', async () => {
    const sub = redis.duplicate();
    await sub.connect();
    const got = new Promise<string>((resolve) => void sub.subscribe(`${prefix}alerts`, resolve));
    await new Promise((r) => setTimeout(r, 50));
    await sink.publishAlerts([
      {
        symbol: 'AAPL',
        windowStartUs: 0,
        windowEndUs: 60_000_000,
        open: 100,
        close: 101,
        changePct: 1,
        thresholdPct: 0.5,
        direction: 'UP',
      },
    ]);
    expect(JSON.parse(await got)).toMatchObject({ symbol: 'AAPL', direction: 'UP' });
    await sub.close();
  });
});
