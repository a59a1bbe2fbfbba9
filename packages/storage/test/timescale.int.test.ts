// TimescaleDB path, on PGlite + TimescaleDB 2.23 served over the wire protocol by @tickflow/stack.
// PGlite runs no background workers: policies are registered (checked below) but never run by themselves,
// so materialization is exercised with an explicit refresh.
import { startTimescale, type TimescaleInstance } from '@tickflow/stack';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, MIGRATIONS, type MigrateResult, migrate } from '../src/migrations.ts';
import { createPool } from '../src/pool.ts';
import { barsOneMinute, countTrades, refreshBars } from '../src/queries.ts';
import { createTradeWriter, PGLITE_WRITE_LIMITS, writerOptionsFor } from '../src/trades-writer.ts';
import type { Trade } from '../src/types.ts';
import { expectBarsEqual, makeTrades, referenceBars } from './reference.ts';
import { barsFor, contractTests, storedTrades } from './suite.ts';

let server: TimescaleInstance;
let pool: pg.Pool;
let first: MigrateResult;

beforeAll(async () => {
  server = await startTimescale();
  pool = await createPool(server.url, { max: 2 });
  first = await migrate(pool, { chunkInterval: '6 hours' });
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

interface Job {
  proc_name: string;
  hypertable_name: string;
  config: Record<string, unknown>;
  schedule_interval: string;
}

async function jobs(db: pg.Pool = pool): Promise<Job[]> {
  const { rows } = await db.query<Job>(
    `SELECT proc_name, hypertable_name, config, schedule_interval::text AS schedule_interval
       FROM timescaledb_information.jobs WHERE hypertable_name IN ('trades', 'bars_1m') ORDER BY job_id`,
  );
  return rows;
}

/** Reads bars_1m from its materialization only: what a refresh wrote, without the real-time part. */
async function materializedBars(symbols: string[]) {
  await pool.query('ALTER MATERIALIZED VIEW bars_1m SET (timescaledb.materialized_only = true)');
  try {
    return await barsFor(pool, 'timescale', symbols);
  } finally {
    await pool.query('ALTER MATERIALIZED VIEW bars_1m SET (timescaledb.materialized_only = false)');
  }
}

describe('migrations on TimescaleDB (PGlite)', () => {
  it('detects the extension, applies every version once, and nothing on a second run', async () => {
    expect(first.mode).toBe('timescale');
    expect(first.server).toMatchObject({ pglite: true, timescaleAvailable: true });
    expect(first.server.timescaleInstalled).toMatch(/^2\./);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    const again = await migrate(pool, { chunkInterval: '6 hours' });
    expect(again).toMatchObject({ applied: [], policyChanges: [], mode: 'timescale' });
    expect((await appliedMigrations(pool)).length).toBe(MIGRATIONS.length);
  });

  it('serialises migrators that share the single PGlite session (transaction-scoped lock)', async () => {
    const other = await startTimescale();
    const [a, b] = [await createPool(other.url, { max: 2 }), await createPool(other.url, { max: 2 })];
    try {
      const results = await Promise.all([migrate(a), migrate(b), migrate(a)]);
      expect(results.flatMap((r) => r.applied).sort((x, y) => x - y)).toEqual(
        MIGRATIONS.map((m) => m.version),
      );
      expect((await jobs(a)).length).toBe(3); // each policy registered once
    } finally {
      await a.end();
      await b.end();
      await other.stop();
    }
  });

  it('makes trades a hypertable with the configured chunk interval', async () => {
    const { rows } = await pool.query(
      `SELECT h.hypertable_name, d.column_name, d.time_interval::text AS time_interval, h.compression_enabled
         FROM timescaledb_information.hypertables h
         JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)
        WHERE h.hypertable_name = 'trades'`,
    );
    expect(rows).toEqual([
      {
        hypertable_name: 'trades',
        column_name: 'time',
        time_interval: '06:00:00',
        compression_enabled: true,
      },
    ]);
  });

  it('keeps the identity and (symbol, time) indexes of trades (migrations 6 and 7 are plain-path only)', async () => {
    const { rows } = await pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'trades' ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual(['trades_identity_key', 'trades_symbol_time_idx']);
  });

  it('makes bars_1m a continuous aggregate with real-time aggregation', async () => {
    const { rows } = await pool.query(
      `SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates`,
    );
    expect(rows).toEqual([{ view_name: 'bars_1m', materialized_only: false }]);
  });

  it('registers compression, retention and refresh policies from the options', async () => {
    const j = await jobs();
    const find = (proc: string) => j.find((x) => x.proc_name === proc);
    expect(find('policy_compression')).toMatchObject({
      hypertable_name: 'trades',
      config: { compress_after: '7 days' },
    });
    expect(find('policy_retention')).toMatchObject({
      hypertable_name: 'trades',
      config: { drop_after: '90 days' },
    });
    expect(find('policy_refresh_continuous_aggregate')).toMatchObject({
      hypertable_name: 'bars_1m',
      config: { start_offset: null, end_offset: '00:01:00' },
      schedule_interval: '00:01:00',
    });
    const { rows } = await pool.query(
      `SELECT segmentby_column_index, orderby_column_index, attname FROM timescaledb_information.compression_settings
        WHERE hypertable_name = 'trades' ORDER BY segmentby_column_index IS NULL, segmentby_column_index, orderby_column_index`,
    );
    expect(rows.map((r) => r.attname)).toEqual(['symbol', 'time', 'source', 'trade_id']);
  });

  it('follows changed policy options on the next migrate, and removes disabled ones', async () => {
    const changed = await migrate(pool, {
      chunkInterval: '6 hours',
      retention: '30 days',
      compressAfter: null,
    });
    expect(changed.applied).toEqual([]);
    expect(changed.policyChanges).toEqual([
      'trades compression policy removed',
      'trades retention policy: drop after 30 days',
    ]);
    const j = await jobs();
    expect(j.find((x) => x.proc_name === 'policy_compression')).toBeUndefined();
    expect(j.find((x) => x.proc_name === 'policy_retention')?.config).toMatchObject({
      drop_after: '30 days',
    });
    // Back to the defaults for the other tests.
    const restored = await migrate(pool, { chunkInterval: '6 hours' });
    expect(restored.policyChanges.length).toBe(2);
    expect((await migrate(pool, { chunkInterval: '6 hours' })).policyChanges).toEqual([]);
  });
});

describe('contract on TimescaleDB (PGlite)', () => {
  contractTests({
    pool: () => pool,
    mode: 'timescale',
    writerOptions: () => writerOptionsFor({ pglite: true }),
    runs: 8,
  });

  it('writes big batches in statements of at most 500 rows and 48 KiB', async () => {
    // Long ids make the byte bound bite before the row bound.
    const trades = makeTrades(2_300, { symbol: 'CHUNK', idPrefix: 'x'.repeat(120) });
    const w = createTradeWriter(pool, writerOptionsFor(first.server));
    expect(PGLITE_WRITE_LIMITS.maxRows).toBeLessThanOrEqual(500);
    expect(await w.write(trades)).toEqual({ inserted: 2_300 });
    expect(await w.write(trades)).toEqual({ inserted: 0 });
    expect(await countTrades(pool, { symbol: 'CHUNK' })).toBe(2_300);
  });

  it('bars_1m is right for fresh trades (real-time) and after refresh (materialized), ties included', async () => {
    const t0 = 1_767_450_000_000_000;
    const trades: Trade[] = [];
    for (let i = 0; i < 600; i++) {
      trades.push({
        symbol: i % 2 ? 'RTA' : 'RTB',
        price: 50 + ((i * 37) % 101) / 10,
        size: 1 + (i % 3),
        eventTimeUs: t0 + Math.floor(i / 4) * 1_200_000, // groups of 4 trades share an event time
        ingestTimeUs: t0 + Math.floor(i / 4) * 1_200_000 + ((i * 7) % 3) * 10, // and ingest ties too
        source: 'synthetic',
        tradeId: `id${(i * 7919) % 1000}`,
      });
    }
    const w = createTradeWriter(pool, writerOptionsFor(first.server));
    await w.write(trades.slice(300).reverse());
    await w.write(trades.slice(0, 300));
    const symbols = ['RTA', 'RTB'];
    const expected = referenceBars(await storedTrades(pool, symbols));
    expect(expected.length).toBeGreaterThan(4);

    expectBarsEqual(await barsFor(pool, 'timescale', symbols), expected); // nothing materialized yet
    expect(await materializedBars(symbols)).toEqual([]);

    await pool.query('CALL refresh_continuous_aggregate($1, NULL, NULL)', ['bars_1m']);
    expectBarsEqual(await materializedBars(symbols), expected); // the tie-break survives materialization
    expectBarsEqual(await barsFor(pool, 'timescale', symbols), expected);

    // A late trade into an already materialized minute shows once refreshed (TimescaleDB's invalidation log).
    const late: Trade = { ...(trades[0] as Trade), tradeId: 'late', price: 999, eventTimeUs: t0 + 1 };
    await w.write([late]);
    await refreshBars(pool, { from: t0, to: t0 + 60_000_000 });
    const [bar] = await barsOneMinute(pool, {
      mode: 'timescale',
      symbol: late.symbol,
      from: t0,
      to: t0 + 1,
      limit: 1,
    });
    expect(bar).toMatchObject({ high: 999, tradeCount: (expected[0]?.tradeCount ?? 0) + 1 });
  });
});
