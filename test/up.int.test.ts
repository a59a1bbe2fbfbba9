import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startCli, waitFor } from './support/cli.ts';

describe('tickflow up', () => {
  it('runs the whole pipeline on its own services, shows live status, and stops everything on Ctrl-C', async () => {
    const up = startCli(['up', '--rate', '500', '--no-dashboard'], {});
    try {
      const url = await waitFor(
        'connection strings',
        () => /export DATABASE_URL=(\S+)/.exec(up.output())?.[1],
        180_000,
      );
      expect(up.output()).toMatch(/export KAFKA_BROKERS=127\.0\.0\.1:\d+/);
      expect(up.output()).toMatch(/export REDIS_URL=redis:\/\/127\.0\.0\.1:\d+/);
      await waitFor(
        'aggregator status with stored trades',
        () => /\[aggregator\].*stored [1-9]/.test(up.output()),
        120_000,
      );
      // Both print status on their own interval, so the producer's first line may come after the aggregator's.
      await waitFor('producer status', () => /\[producer\].*sent /.test(up.output()), 30_000);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const n = (await db.query('SELECT count(*)::int AS n FROM trades')).rows[0].n;
      await db.end();
      expect(n).toBeGreaterThan(0);
      // It prints where every process's Prometheus /metrics is, and they serve the pipeline's metrics.
      const endpoint = (name: string) =>
        new RegExp(`^  ${name}\\s+(http://\\S+/metrics)`, 'm').exec(up.output())?.[1];
      const expected: Array<[string, string]> = [
        ['producer', 'tickflow_producer_produced_total'],
        ['aggregator', 'tickflow_aggregator_end_to_end_latency_seconds_bucket'],
        ['kafka lag', 'kafka_consumergroup_lag{consumergroup="tickflow-aggregators"'],
      ];
      for (const [name, metric] of expected) {
        const metricsUrl = endpoint(name);
        expect(metricsUrl, up.output()).toBeDefined();
        const text = await waitFor(`${name} metrics`, async () => {
          const body = await (await fetch(metricsUrl as string)).text();
          return body.includes(metric) ? body : undefined;
        });
        expect(text).toContain('# TYPE');
      }

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
