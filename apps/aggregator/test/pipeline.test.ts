import { type Bar, DLQ_HEADERS, encodeTrade, type PriceAlert, type Trade } from '@tickflow/contracts';
import type { ConsumedMessage } from '@tickflow/kafka';
import { tradeKey } from '@tickflow/storage';
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../src/classify.ts';
import { MarketAggregator } from '../src/core/index.ts';
import { BatchPipeline, type Sinks } from '../src/pipeline.ts';
import { deadLetterRecord } from '../src/sinks/kafka-outputs.ts';

/** In-memory stores with the sinks' contract: idempotent trades, per-call failure injection. */
class MemorySinks implements Sinks {
  readonly trades = new Map<string, Trade>();
  readonly latest = new Map<string, Trade>();
  readonly bars: Bar[] = [];
  readonly alerts: PriceAlert[] = [];
  readonly deadLetters: DeadLetter[] = [];
  failTradesTimes = 0;
  readonly calls: string[] = [];

  async storeTrades(trades: readonly Trade[], fresh: Uint8Array) {
    this.calls.push('trades');
    // Commits the first half, then fails: a partly applied write, as a chunked INSERT can leave.
    const half = Math.ceil(trades.length / 2);
    for (const [i, t] of trades.entries()) {
      if (this.failTradesTimes > 0 && i === half) {
        this.failTradesTimes--;
        throw new Error('connection reset');
      }
      const k = tradeKey(t.source, t.symbol, t.tradeId);
      if (!this.trades.has(k)) {
        this.trades.set(k, t);
        fresh[i] = 1;
      }
    }
  }
  async storeAlerts(a: readonly PriceAlert[]) {
    this.alerts.push(...a);
  }
  async writeLatest(latest: Iterable<Trade>) {
    this.calls.push('latest');
    for (const t of latest) {
      const cur = this.latest.get(t.symbol);
      if (!cur || cur.eventTimeUs <= t.eventTimeUs) this.latest.set(t.symbol, t);
    }
  }
  async publishAlerts() {}
  async writeBars(b: readonly Bar[]) {
    this.calls.push('bars');
    this.bars.push(...b);
  }
  async writeAlerts() {}
  async writeDeadLetters(d: readonly DeadLetter[]) {
    this.deadLetters.push(...d);
  }
}

const T0 = 1_767_623_400_000_000; // 2026-01-05T14:30:00Z in µs
const trade = (i: number, over: Partial<Trade> = {}): Trade => ({
  symbol: 'AAPL',
  price: 100 + i,
  size: 1,
  eventTimeUs: T0 + i * 100_000,
  ingestTimeUs: T0 + i * 100_000,
  source: 'replay',
  tradeId: String(i),
  ...over,
});
let offset = 0;
const msg = (value: Buffer | null, partition = 0): ConsumedMessage => ({
  topic: 'raw',
  partition,
  offset: offset++,
  key: Buffer.from('k'),
  value,
  headers: [{ traceparent: '00-abc' }],
  timestamp: 0,
});
const enc = (t: Trade) => Buffer.from(encodeTrade(t));

function pipeline(sinks: Sinks, nowUs: () => number) {
  const core = new MarketAggregator({
    intervals: [{ name: '1s', lengthUs: 1_000_000 }],
    allowedLatenessUs: 0,
    alertWindowUs: 60_000_000,
    alertThresholdPct: 0.5,
  });
  return new BatchPipeline(core, sinks, { maxMessageBytes: 4096, nowUs, onSinkRetry: () => undefined });
}

describe('BatchPipeline', () => {
  it('routes bad messages to dead letters and commits past every message of the batch', async () => {
    const sinks = new MemorySinks();
    const p = pipeline(sinks, () => T0 + 10_000_000);
    const offsets = await p.process([
      msg(enc(trade(1))),
      msg(Buffer.from([0xff, 0xff, 0xff])),
      msg(enc(trade(2, { price: Number.NaN }))),
      msg(enc(trade(3)), 1),
    ]);
    expect(sinks.trades.size).toBe(2);
    expect(sinks.deadLetters.map((d) => d.reason)).toEqual(['malformed-protobuf', 'invalid-price']);
    expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 'raw', partition: 0, offset: offset - 1 },
      { topic: 'raw', partition: 1, offset },
    ]);
    expect(p.stats).toMatchObject({ consumed: 4, stored: 2, deadLetters: 2 });
  });

  it("splits ingest -> polled at each record's Kafka timestamp, skipping records without one", async () => {
    const sinks = new MemorySinks();
    const polledUs = T0 + 10_000;
    const p = pipeline(sinks, () => polledUs);
    // Ingested at T0 + 1 ms; the broker stamps it 4 ms later (whole ms), the consumer polls 5 ms after that.
    const stamped = { ...msg(enc(trade(0, { ingestTimeUs: T0 + 1_000 }))), timestamp: (T0 + 5_000) / 1000 };
    const unstamped = { ...msg(enc(trade(1, { ingestTimeUs: T0 + 1_000 }))), timestamp: undefined };
    // Stamped in the same millisecond as ingest but truncated to before it: counted as ~0, not negative.
    const sameMs = { ...msg(enc(trade(2, { ingestTimeUs: T0 + 1_700 }))), timestamp: (T0 + 1_000) / 1000 };
    await p.process([stamped, unstamped, sameMs]);
    const to = p.latency.toRecordTime.summary();
    const from = p.latency.fromRecordTime.summary();
    expect(to.count).toBe(2);
    expect(from.count).toBe(2);
    expect(to.max).toBeCloseTo(4, 1);
    expect(to.p50).toBeLessThan(0.01);
    expect(from.max).toBeCloseTo(9, 1);
    expect(p.latency.toConsumer.summary().count).toBe(3);
  });

  it('builds dead-letter records with the original bytes and the contract headers', () => {
    const m = msg(Buffer.from('garbage'));
    const r = deadLetterRecord({ message: m, reason: 'malformed-protobuf', error: 'bad' }, 'dlq');
    expect(r.value.toString()).toBe('garbage');
    expect(r.key?.toString()).toBe('k');
    const h = Object.assign({}, ...(r.headers ?? []));
    expect(h).toMatchObject({
      traceparent: '00-abc',
      [DLQ_HEADERS.reason]: 'malformed-protobuf',
      [DLQ_HEADERS.sourceTopic]: 'raw',
      [DLQ_HEADERS.sourcePartition]: '0',
      [DLQ_HEADERS.sourceOffset]: String(m.offset),
      [DLQ_HEADERS.error]: 'bad',
    });
  });

  it('feeds the core only trades the store newly took, so duplicates never count twice in a bar', async () => {
    const sinks = new MemorySinks();
    let now = T0;
    const p = pipeline(sinks, () => now);
    const first = [0, 1, 2, 3].map((i) => trade(i));
    await p.process(first.map((t) => msg(enc(t))));
    // The same trades again (a replay) plus one more, then time moves on so the window closes.
    now = T0 + 100_000;
    await p.process([...first, trade(4)].map((t) => msg(enc(t))));
    now = T0 + 10_000_000;
    await p.process([msg(enc(trade(30)))]);
    const bar = sinks.bars.find((b) => b.startUs === T0);
    expect(bar?.tradeCount).toBe(5);
    expect(bar?.volume).toBe(5);
  });

  it('retries a failed sink until it succeeds, keeping what a partial attempt stored', async () => {
    const sinks = new MemorySinks();
    sinks.failTradesTimes = 2;
    let now = T0;
    const p = pipeline(sinks, () => now);
    const batch = [0, 1, 2, 3, 4, 5].map((i) => trade(i));
    await p.process(batch.map((t) => msg(enc(t))));
    expect(sinks.trades.size).toBe(6);
    expect(p.stats.sinkRetries).toBe(2);
    expect(p.failingSinks.size).toBe(0);
    now = T0 + 10_000_000;
    await p.process([msg(enc(trade(50)))]);
    // The trades committed by the failed attempts still reached the core.
    expect(sinks.bars.find((b) => b.startUs === T0)?.tradeCount).toBe(6);
  });

  it('writes durable state before outputs, and the latest price never moves backwards', async () => {
    const sinks = new MemorySinks();
    let now = T0;
    const p = pipeline(sinks, () => now);
    await p.process([msg(enc(trade(5))), msg(enc(trade(3)))]);
    await p.process([msg(enc(trade(1)))]);
    now = T0 + 10_000_000;
    await p.process([]);
    expect(sinks.latest.get('AAPL')?.tradeId).toBe('5');
    expect(sinks.calls.indexOf('trades')).toBeLessThan(sinks.calls.indexOf('bars'));
  });

  it('overlaps two batches but feeds the core and resolves in batch order', async () => {
    class SlowFirst extends MemorySinks {
      calls2 = 0;
      override async storeTrades(trades: readonly Trade[], fresh: Uint8Array) {
        // The first batch's INSERT is slow, the second's fast: the second must still wait its turn.
        if (this.calls2++ === 0) await new Promise((r) => setTimeout(r, 50));
        return super.storeTrades(trades, fresh);
      }
    }
    const sinks = new SlowFirst();
    let now = T0;
    const p = pipeline(sinks, () => now);
    const order: string[] = [];
    const a = p.process([0, 1, 2].map((i) => msg(enc(trade(i))))).then(() => order.push('a'));
    const b = p.process([3, 4].map((i) => msg(enc(trade(i))))).then(() => order.push('b'));
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(sinks.latest.get('AAPL')?.tradeId).toBe('4');
    now = T0 + 10_000_000;
    await p.process([msg(enc(trade(90)))]);
    const bar = sinks.bars.find((x) => x.startUs === T0);
    expect(bar).toMatchObject({ tradeCount: 5, open: 100, close: 104 });
  });

  it('keeps batch order with four batches in flight whose INSERTs finish out of order', async () => {
    class Jittery extends MemorySinks {
      readonly delays = [40, 0, 25, 5];
      override async storeTrades(trades: readonly Trade[], fresh: Uint8Array) {
        await new Promise((r) => setTimeout(r, this.delays.shift() ?? 0));
        return super.storeTrades(trades, fresh);
      }
    }
    const sinks = new Jittery();
    let now = T0;
    const p = pipeline(sinks, () => now);
    const order: number[] = [];
    const batches = [0, 1, 2, 3].map((b) =>
      p.process([0, 1].map((i) => msg(enc(trade(b * 2 + i))))).then(() => order.push(b)),
    );
    await Promise.all(batches);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(sinks.latest.get('AAPL')?.tradeId).toBe('7');
    now = T0 + 10_000_000;
    await p.process([msg(enc(trade(90)))]);
    expect(sinks.bars.find((x) => x.startUs === T0)).toMatchObject({ tradeCount: 8, open: 100, close: 107 });
  });
});
