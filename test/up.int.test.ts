import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startCli, waitFor } from './support/cli.ts';

describe('tickflow up', () => {
  it('runs the whole pipeline on its own services, shows live status, and stops everything on Ctrl-C', async () => {
    const up = startCli(['up', '--rate', '500', '--no-dashboard'], {});
    try {
      const url = await waitFor('connection strings', () => /export DATABASE_URL=(\S+)/.exec(up.output())?.[1], 180_000);
      expect(up.output()).toMatch(/export KAFKA_BROKERS=127\.0\.0\.1:\d+/);
      expect(up.output()).toMatch(/export REDIS_URL=redis:\/\/127\.0\.0\.1:\d+/);
      await waitFor('aggregator status with stored trades', () => /\[aggregator\].*stored [1-9]/.test(up.output()), 120_000);
      expect(up.output()).toMatch(/\[producer\].*sent /);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const n = (await db.query('SELECT count(*)::int AS n FROM trades')).rows[0].n;
      await db.end();
      expect(n).toBeGreaterThan(0);

      up.child.kill('SIGINT');
      const exit = await up.exited;
      expect(exit.code, up.output()).toBe(0);
      expect(up.output()).toContain('aggregator stopped');
      // Everything it started is gone: the database no longer answers.
      const after = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      await expect(after.connect()).rejects.toThrow();
    } finally {
      if (up.child.exitCode === null) up.child.kill('SIGKILL');
    }
  });
});
