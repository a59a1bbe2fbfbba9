// Plain PostgreSQL path, on a real PostgreSQL 15 server (fsync on) started by @tickflow/stack.
import { type PostgresInstance, startPostgres } from '@tickflow/stack';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, MIGRATIONS, MigrationError, migrate } from '../src/migrations.ts';
import { createPool } from '../src/pool.ts';
import { countTrades } from '../src/queries.ts';
import { createTradeWriter, POSTGRES_WRITE_LIMITS, tradeKey } from '../src/trades-writer.ts';
import { makeTrades } from './reference.ts';
import { contractTests } from './suite.ts';

let server: PostgresInstance;
let admin: pg.Pool;
let pool: pg.Pool;
const pools: pg.Pool[] = [];

/** A new empty database on the server, for tests that need a schema of their own. */
async function freshDatabase(name: string): Promise<string> {
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(server.url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function open(url: string, max = 4): Promise<pg.Pool> {
  const p = await createPool(url, { max });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  server = await startPostgres();
  admin = await open(server.url, 2);
  pool = await open(await freshDatabase('contract'));
  await migrate(pool);
});

afterAll(async () => {
  for (const p of pools) await p.end();
  await server?.stop();
});

async function columns(p: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await p.query<{ c: string }>(
    `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.c);
}

describe('migrations on plain PostgreSQL', () => {
  it('applies every version once; a second run applies nothing', async () => {
    const p = await open(await freshDatabase('twice'));
    const first = await migrate(p);
    expect(first.mode).toBe('postgres');
    expect(first.server.timescaleAvailable).toBe(false);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    const second = await migrate(p);
    expect(second.applied).toEqual([]);
    expect((await appliedMigrations(p)).map((m) => [m.version, m.name])).toEqual(
      MIGRATIONS.map((m) => [m.version, m.name]),
    );
    // Migration 6 left exactly one identity index, on the single joined value.
    const { rows } = await p.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'trades' AND indexdef LIKE 'CREATE UNIQUE%'",
    );
    expect(rows.map((r) => r.indexdef)).toEqual([expect.stringContaining('trades_identity_key')]);
    expect(rows[0]?.indexdef).toContain('chr(31)');
  });

  it('the identity index keeps one row per (source, symbol, trade_id), whatever else differs', async () => {
    const p = await open(await freshDatabase('identity'));
    await migrate(p);
    const w = createTradeWriter(p);
    const [t] = makeTrades(1, { symbol: 'IDX', idPrefix: 'same' });
    if (!t) throw new Error('no trade');
    const fresh = new Uint8Array(2);
    expect(await w.write([t, { ...t, price: t.price + 1 }], { fresh })).toEqual({ inserted: 1 });
    expect([...fresh]).toEqual([1, 0]); // the first of two identical trades is the stored one
    // Same trade id under another symbol or source is another trade.
    expect(
      await w.write([
        { ...t, symbol: 'IDY' },
        { ...t, source: 'replay' },
      ]),
    ).toEqual({ inserted: 2 });
    expect(await w.write([t])).toEqual({ inserted: 0 });
    // A redelivered batch mixing stored and new trades flags exactly the new ones, across chunks.
    const chunked = createTradeWriter(p, { chunkRows: 2 });
    const more = makeTrades(3, { symbol: 'IDX', idPrefix: 'more' });
    const mixed = [more[0], t, more[1], { ...t, symbol: 'IDY' }, more[2]] as typeof more;
    const flags = new Uint8Array(mixed.length);
    expect(await chunked.write(mixed, { fresh: flags })).toEqual({ inserted: 3 });
    expect([...flags]).toEqual([1, 0, 1, 0, 1]);
    expect(tradeKey('a', 'B', 'c')).toBe('a\u001fB\u001fc');
  });

  it('serialises two migrators starting at once: each version applied exactly once', async () => {
    const url = await freshDatabase('concurrent');
    const [a, b] = [await open(url, 2), await open(url, 2)];
    const results = await Promise.all([migrate(a), migrate(b), migrate(a)]);
    const all = results.flatMap((r) => r.applied).sort((x, y) => x - y);
    expect(all).toEqual(MIGRATIONS.map((m) => m.version));
    expect((await appliedMigrations(a)).length).toBe(MIGRATIONS.length);
  });

  it('creates the contract tables and view with exactly the contract columns', async () => {
    expect(await columns(pool, 'trades')).toEqual([
      'time timestamp with time zone',
      'symbol text',
      'price double precision',
      'size double precision',
      'source text',
      'trade_id text',
      'ingest_time timestamp with time zone',
      'stored_at timestamp with time zone',
    ]);
    expect(await columns(pool, 'bars_1m')).toEqual([
      'bucket timestamp with time zone',
      'symbol text',
      'open double precision',
      'high double precision',
      'low double precision',
      'close double precision',
      'volume double precision',
      'vwap double precision',
      'trade_count bigint',
    ]);
    expect(await columns(pool, 'price_alerts')).toEqual([
      'window_start timestamp with time zone',
      'window_end timestamp with time zone',
      'symbol text',
      'open double precision',
      'close double precision',
      'change_pct double precision',
      'threshold_pct double precision',
      'direction text',
    ]);
  });

  it("refuses timescale: 'require' without the extension", async () => {
    const p = await open(await freshDatabase('require'));
    await expect(migrate(p, { timescale: 'require' })).rejects.toThrow(MigrationError);
    expect(await appliedMigrations(p)).toEqual([]);
  });

  it('answers a one-symbol bars query from the bucket index', async () => {
    // Tables here are small, so forbid the sequential scan the planner would rightly prefer on them.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT * FROM bars_1m WHERE symbol = 'AAPL' AND bucket >= now() - interval '1 hour'`,
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/trades_symbol_bucket_idx/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('contract on plain PostgreSQL', () => {
  contractTests({
    pool: () => pool,
    writerOptions: () => ({ chunkRows: 500, maxStatementBytes: POSTGRES_WRITE_LIMITS.maxBytes }),
    runs: 40,
  });

  it('writes a batch larger than the chunk size in several statements', async () => {
    const w = createTradeWriter(pool, { chunkRows: 1000 });
    expect(await w.write(makeTrades(5_500, { symbol: 'BIG', idPrefix: 'big' }))).toEqual({ inserted: 5_500 });
    expect(await countTrades(pool, { symbol: 'BIG' })).toBe(5_500);
  });
});
