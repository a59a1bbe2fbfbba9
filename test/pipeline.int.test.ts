import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DLQ_HEADERS, decodeBar, encodeTrade, latestKey } from '@tickflow/contracts';
import { headerValue, KafkaProducer } from '@tickflow/kafka';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { runCli, startCli, waitFor } from './support/cli.ts';
import { buildDataset, referenceBars, referenceLatest } from './support/dataset.ts';
import { type IsolatedPipeline, isolatedPipeline } from './support/isolation.ts';
import { readTopic } from './support/kafka.ts';

const stack = inject('stack');

/** Poison written straight to raw-market-data, bypassing the producer's validation. */
function poison(): Array<{ value: Buffer | null; reason: string }> {
  const valid = {
    symbol: 'AAPL',
    price: 1,
    size: 1,
    eventTimeUs: 1767623400000000,
    ingestTimeUs: 1767623400000000,
    source: 'replay',
    tradeId: 'p',
  };
  const enc = (t: object) => Buffer.from(encodeTrade({ ...valid, ...t }));
  return [
    {
      value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      reason: 'malformed-protobuf',
    },
    { value: Buffer.from([0x0a, 0x10, 0x41]), reason: 'malformed-protobuf' }, // length-delimited field cut short
    { value: enc({ symbol: '' }), reason: 'empty-symbol' },
    { value: enc({ price: Number.NaN }), reason: 'invalid-price' },
    { value: enc({ price: -3 }), reason: 'invalid-price' },
    { value: enc({ size: 0 }), reason: 'invalid-size' },
    { value: enc({ tradeId: 'x'.repeat(10_000) }), reason: 'oversized' },
    { value: enc({ tradeId: '' }), reason: 'missing-trade-id' },
  ];
}

describe('core pipeline on real Kafka, Redis and PostgreSQL', () => {
  let p: IsolatedPipeline;
  beforeAll(async () => {
    p = await isolatedPipeline(stack);
  });
  afterAll(async () => {
    await p?.drop();
  });

  it('stores every distinct trade once, computes bars_1m exactly, keeps the newest price and dead-letters poison', async () => {
    const data = buildDataset();
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-replay-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'trades.jsonl');
    writeFileSync(file, `${data.lines.join('\n')}\n`);

    const produced = await runCli(['produce', '--source', 'replay', '--file', file], p.env);
    expect(produced.code, produced.output).toBe(0);
    expect(produced.output).toContain(`malformed lines ${data.malformed}`);
    const sent = data.distinct.length + data.duplicates;
    expect(produced.output).toContain(`${sent} acked of ${sent} sent`);

    const bad = poison();
    const producer = await KafkaProducer.connect({ brokers: stack.brokers, clientId: 'poison' });
    await producer.sendAll(
      bad.map((b, i) => ({ topic: p.topics.raw, key: `poison-${i}`, value: b.value as Buffer })),
    );
    await producer.close();

    const aggregator = startCli(['aggregate'], p.env);
    const db = new pg.Client({ connectionString: p.databaseUrl });
    try {
      await waitFor('aggregator to migrate', async () => {
        try {
          await db.connect();
        } catch {
          return false;
        }
        return true;
      });
      await waitFor(
        'every distinct trade stored',
        async () => {
          const r = await db
            .query('SELECT count(*)::int AS n FROM trades')
            .catch(() => ({ rows: [{ n: -1 }] }));
          return r.rows[0].n === data.distinct.length;
        },
        120_000,
      );
      const dlq = await readTopic(stack.brokers, p.topics.dlq, bad.length);

      aggregator.child.kill('SIGTERM');
      const exit = await aggregator.exited;
      expect(exit.code, aggregator.output()).toBe(0);

      // Exactly once: no duplicate keys, and the stored values are the file's.
      const rows = (
        await db.query(
          `SELECT symbol, price, size, trade_id, source,
                  (extract(epoch from time) * 1000000)::bigint::text AS us FROM trades`,
        )
      ).rows as Array<{
        symbol: string;
        price: number;
        size: number;
        trade_id: string;
        source: string;
        us: string;
      }>;
      expect(rows.length).toBe(data.distinct.length);
      const byKey = new Map(rows.map((r) => [`${r.symbol}/${r.trade_id}`, r]));
      expect(byKey.size).toBe(data.distinct.length);
      for (const t of data.distinct) {
        const r = byKey.get(`${t.symbol}/${t.tradeId}`);
        expect(r, `${t.symbol}/${t.tradeId}`).toBeDefined();
        expect(r?.price).toBe(t.price);
        expect(r?.size).toBe(t.size);
        expect(r?.source).toBe('replay');
        expect(Number(r?.us)).toBe(t.eventTimeUs);
      }

      // bars_1m against the brute-force reference.
      const bars = (
        await db.query(
          `SELECT symbol, (extract(epoch from bucket) * 1000000)::bigint::text AS us, open, high, low, close,
                  volume, vwap, trade_count::int AS n FROM bars_1m ORDER BY symbol, bucket`,
        )
      ).rows;
      const expected = referenceBars(data.distinct);
      expect(bars.length).toBe(expected.length);
      bars.forEach((b, i) => {
        const e = expected[i];
        expect({
          symbol: b.symbol,
          us: Number(b.us),
          open: b.open,
          high: b.high,
          low: b.low,
          close: b.close,
          n: b.n,
        }).toEqual({
          symbol: e?.symbol,
          us: e?.bucketUs,
          open: e?.open,
          high: e?.high,
          low: e?.low,
          close: e?.close,
          n: e?.tradeCount,
        });
        expect(b.volume).toBeCloseTo(e?.volume ?? 0, 6);
        expect(b.vwap).toBeCloseTo(e?.vwap ?? 0, 6);
      });

      // Redis holds the newest trade per symbol, never an older late arrival.
      const redis = createClient({ url: stack.redisUrl });
      await redis.connect();
      for (const [symbol, t] of referenceLatest(data.distinct)) {
        const h = await redis.hGetAll(latestKey(p.redisPrefix, symbol));
        expect(h).toEqual({
          price: String(t.price),
          size: String(t.size),
          event_time_us: String(t.eventTimeUs),
          source: 'replay',
          trade_id: t.tradeId,
        });
      }
      await redis.close();

      // Every poison message is in the DLQ with its reason and its origin.
      expect(dlq.length).toBe(bad.length);
      const reasons = dlq.map((m) => headerValue(m.headers, DLQ_HEADERS.reason)).sort();
      expect(reasons).toEqual(bad.map((b) => b.reason).sort());
      for (const m of dlq) {
        expect(headerValue(m.headers, DLQ_HEADERS.sourceTopic)).toBe(p.topics.raw);
        expect(Number(headerValue(m.headers, DLQ_HEADERS.sourcePartition))).toBeGreaterThanOrEqual(0);
        expect(Number(headerValue(m.headers, DLQ_HEADERS.sourceOffset))).toBeGreaterThanOrEqual(0);
        expect(headerValue(m.headers, DLQ_HEADERS.error)?.length).toBeGreaterThan(0);
        const i = Number(m.key?.toString().replace('poison-', ''));
        expect(m.value?.equals(bad[i]?.value as Buffer)).toBe(true);
      }

      // Published 1-minute bars never count a trade twice (the replay has 5 % duplicated lines) and,
      // where no late trade was left out, equal the database's bar exactly.
      const published = (await readTopic(stack.brokers, p.topics.bars, Number.POSITIVE_INFINITY, 8000)).map(
        (m) => decodeBar(m.value as Buffer),
      );
      const minute = published.filter((b) => b.interval === '1m');
      expect(minute.length).toBeGreaterThan(0);
      const dbBars = new Map(bars.map((b) => [`${b.symbol}|${Number(b.us)}`, b]));
      let exact = 0;
      for (const b of minute) {
        expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
        expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
        const db = dbBars.get(`${b.symbol}|${b.startUs}`);
        expect(db, `${b.symbol} ${b.startUs}`).toBeDefined();
        expect(b.tradeCount).toBeLessThanOrEqual(db?.n);
        if (b.tradeCount === db?.n) {
          exact++;
          expect([b.open, b.high, b.low, b.close]).toEqual([db.open, db.high, db.low, db.close]);
          expect(b.volume).toBeCloseTo(db.volume, 6);
        }
      }
      expect(exact).toBeGreaterThan(minute.length / 2);
    } finally {
      if (aggregator.child.exitCode === null) aggregator.child.kill('SIGKILL');
      await db.end().catch(() => undefined);
    }
  });
});
