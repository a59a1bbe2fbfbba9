import { latestKey } from '@tickflow/contracts';
import { startRedis } from '@tickflow/stack';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCli, waitFor } from './support/cli.ts';
import { type IsolatedPipeline, isolatedPipeline } from './support/isolation.ts';

const stack = inject('stack');

describe('sink outage', () => {
  let p: IsolatedPipeline;
  beforeAll(async () => {
    p = await isolatedPipeline(stack);
  });
  afterAll(async () => {
    await p?.drop();
  });

  it('pauses consumption while Redis is down, retries with backoff, and loses nothing once it is back', async () => {
    let redis = await startRedis();
    const port = redis.port;
    const env = { ...p.env, REDIS_URL: redis.url };
    const db = new pg.Client({ connectionString: p.databaseUrl });
    const count = async () => {
      const r = await db.query('SELECT count(*)::int AS n FROM trades').catch(() => undefined);
      return r?.rows[0].n ?? 0;
    };
    const agg = startCli(['aggregate'], env);
    try {
      await db.connect().catch(() => undefined);
      const first = await runCli(['produce', '--rate', 'max', '--count', '20000'], env);
      expect(first.code, first.output).toBe(0);
      await waitFor('first wave stored', async () => (await count()) === 20_000);

      await redis.stop();
      const second = await runCli(['produce', '--rate', 'max', '--count', '30000'], env);
      expect(second.code, second.output).toBe(0);
      await waitFor('the aggregator to notice the outage', () =>
        agg.output().includes('redis latest write failed, retrying'),
      );
      // Paused: at most the batch in flight when Redis went away reaches PostgreSQL, nothing after it.
      const duringOutage = await count();
      await new Promise((r) => setTimeout(r, 2000));
      expect(await count()).toBe(duringOutage);
      expect(duringOutage).toBeLessThan(50_000);

      redis = await startRedis({ port });
      await waitFor('everything stored after recovery', async () => (await count()) === 50_000, 120_000);
      const client = createClient({ url: redis.url });
      await client.connect();
      const keys = await client.keys(`${latestKey(p.redisPrefix, '*')}`);
      expect(keys.length).toBeGreaterThan(0);
      await client.close();
      agg.child.kill('SIGTERM');
      expect((await agg.exited).code, agg.output()).toBe(0);
      const r = await db.query('SELECT count(DISTINCT (source, symbol, trade_id))::int AS n FROM trades');
      expect(r.rows[0].n).toBe(50_000);
    } finally {
      if (agg.child.exitCode === null) agg.child.kill('SIGKILL');
      await db.end().catch(() => undefined);
      await redis.stop().catch(() => undefined);
    }
  });
});
