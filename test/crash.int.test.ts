import { consumerGroupLag } from '@tickflow/kafka';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCli, waitFor } from './support/cli.ts';
import { type IsolatedPipeline, isolatedPipeline } from './support/isolation.ts';

const stack = inject('stack');

async function storedCounts(db: pg.Client): Promise<{ rows: number; distinct: number }> {
  const r = await db.query(
    'SELECT count(*)::int AS rows, count(DISTINCT (source, symbol, trade_id))::int AS distinct FROM trades',
  );
  return r.rows[0];
}

async function committedTotal(brokers: string, group: string, topic: string): Promise<number> {
  const lag = await consumerGroupLag(brokers, group, topic);
  return lag.reduce((s, p) => s + Math.max(0, p.committedOffset), 0);
}

describe('failure behaviour of the aggregator', () => {
  let p: IsolatedPipeline;
  let db: pg.Client;
  beforeAll(async () => {
    p = await isolatedPipeline(stack);
  });
  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await p?.drop();
  });

  it('kill -9 repeatedly during a 200k-message run loses nothing and duplicates nothing', async () => {
    const total = 200_000;
    const env = { ...p.env, KAFKA_SESSION_TIMEOUT: '6s' };
    db = new pg.Client({ connectionString: p.databaseUrl });
    await db.connect();
    const stored = async () => (await storedCounts(db).catch(() => ({ rows: 0, distinct: 0 }))).rows;
    const producer = startCli(['produce', '--rate', '20000', '--count', String(total)], env);
    const killedAt: number[] = [];
    for (let round = 0; round < 4; round++) {
      const before = await stored();
      const agg = startCli(['aggregate'], env);
      // Crash it mid-stream, once it has stored a good share of work since it started.
      await waitFor(
        'aggregator to make progress',
        async () => (await stored()) >= before + 8000 || agg.child.exitCode !== null,
        120_000,
        50,
      );
      agg.child.kill('SIGKILL');
      await agg.exited;
      killedAt.push(await stored());
    }
    const produced = await producer.exited;
    expect(produced.code, producer.output()).toBe(0);
    expect(producer.output()).toContain(`${total} acked of ${total} sent`);

    const final = startCli(['aggregate'], env);
    try {
      const counts = await waitFor(
        'every trade stored after the restarts',
        async () => {
          const c = await storedCounts(db);
          return c.rows >= total ? c : undefined;
        },
        240_000,
        500,
      );
      expect(counts).toEqual({ rows: total, distinct: total });
      await waitFor(
        'offsets committed',
        async () => (await committedTotal(stack.brokers, p.group, p.topics.raw)) === total,
      );
      final.child.kill('SIGTERM');
      expect((await final.exitWithin(90_000)).code, final.output()).toBe(0);
      // Every kill happened mid-run: before the last trade was stored.
      expect(killedAt.every((n) => n > 0 && n < total)).toBe(true);
    } finally {
      if (final.child.exitCode === null) final.child.kill('SIGKILL');
    }
  });

  it('SIGTERM mid-run finishes and commits the in-flight batch, exits 0, and a restart completes the run', async () => {
    const q = await isolatedPipeline(stack);
    const qdb = new pg.Client({ connectionString: q.databaseUrl });
    try {
      const total = 60_000;
      const produced = await runCli(['produce', '--rate', 'max', '--count', String(total)], q.env);
      expect(produced.code, produced.output).toBe(0);
      // Small batches so that SIGTERM lands while there is still work queued behind the in-flight batch.
      const agg = startCli(['aggregate', '--batch-max', '500'], q.env);
      await qdb.connect().catch(() => undefined);
      await waitFor('some trades stored', async () => {
        const r = await qdb.query('SELECT count(*)::int AS n FROM trades').catch(() => undefined);
        return (r?.rows[0].n ?? 0) > 5000;
      });
      agg.child.kill('SIGTERM');
      const exit = await agg.exitWithin(90_000);
      expect(exit.code, agg.output()).toBe(0);
      expect(agg.output()).toContain('aggregator stopped');

      // Nothing stored beyond what was committed, nothing committed that was not stored.
      const stored = (await storedCounts(qdb)).rows;
      expect(stored).toBeLessThan(total);
      expect(await committedTotal(stack.brokers, q.group, q.topics.raw)).toBe(stored);

      const again = startCli(['aggregate'], q.env);
      await waitFor('the rest stored', async () => (await storedCounts(qdb)).rows === total, 120_000);
      again.child.kill('SIGTERM');
      expect((await again.exitWithin(90_000)).code).toBe(0);
      expect(await storedCounts(qdb)).toEqual({ rows: total, distinct: total });
    } finally {
      await qdb.end().catch(() => undefined);
      await q.drop();
    }
  });
});
