// Plain PostgreSQL path, on a real PostgreSQL 15 server (fsync on) started by @tickflow/stack.
import { type PostgresInstance, startPostgres } from '@tickflow/stack';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedMigrations, MIGRATIONS, MigrationError, migrate } from '../src/migrations.ts';
import { createPool } from '../src/pool.ts';
import { type BarsQuery, barsOneMinute, countTrades } from '../src/queries.ts';
import type { Queryable } from '../src/queryable.ts';
import { microsToTimestamptzSql, timestamptzToMicrosSql } from '../src/time.ts';
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

  it('migration 7 leaves trades with the identity and (symbol, time) indexes only', async () => {
    const p = await open(await freshDatabase('indexes'));
    await migrate(p);
    const { rows } = await p.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'trades' ORDER BY indexname",
    );
    expect(rows.map((r) => r.indexname)).toEqual(['trades_identity_key', 'trades_symbol_time_idx']);
  });

  it('migration 7 drops the bucket index of a database migrated up to version 6', async () => {
    const p = await open(await freshDatabase('upgrade'));
    await p.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) {
      for (const st of m.statements('postgres', { chunkInterval: '1 day' }))
        await p.query(st.text, st.values);
      await p.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    const indexes = async () =>
      (
        await p.query<{ indexname: string }>(
          "SELECT indexname FROM pg_indexes WHERE tablename = 'trades' ORDER BY indexname",
        )
      ).rows.map((r) => r.indexname);
    expect(await indexes()).toContain('trades_symbol_bucket_idx');
    const result = await migrate(p);
    expect(result.applied).toEqual(MIGRATIONS.filter((x) => x.version > 6).map((x) => x.version));
    expect(await indexes()).toEqual(['trades_identity_key', 'trades_symbol_time_idx']);
  });
});

describe('bar range queries on plain PostgreSQL', () => {
  const MIN = 60_000_000;
  const start = 1_767_600_000_000_000 - (1_767_600_000_000_000 % MIN);

  beforeAll(async () => {
    // Two symbols over ~6 minutes, with equal event times, and sums that are exact in any order (integer
    // sizes, prices in eighths) so the view and the ranged query must agree to the last bit.
    const trades = ['VEQ', 'VER'].flatMap((symbol, k) =>
      makeTrades(480, { symbol, startUs: start, idPrefix: 'v' }).map((t, i) => ({
        ...t,
        price: 100 + ((i * 37 + k) % 101) / 8,
        eventTimeUs: start + Math.floor(i / 3) * 2_250_000 + (i % 7 === 0 ? 1 : 0),
      })),
    );
    await createTradeWriter(pool, { chunkRows: 200 }).write(trades);
  });

  /** The statement barsOneMinute sends, captured instead of run. */
  async function barsStatement(q: Omit<BarsQuery, 'mode'>): Promise<{ text: string; values: unknown[] }> {
    let sent: { text: string; values: unknown[] } | undefined;
    const capture = {
      query: async (text: string, values: unknown[]) => {
        sent = { text, values };
        return { rows: [] };
      },
    } as unknown as Queryable;
    await barsOneMinute(capture, { mode: 'postgres', ...q });
    if (!sent) throw new Error('no statement');
    return sent;
  }

  it('answers a one-symbol range from the (symbol, time) index, bounds as index conditions', async () => {
    const { text, values } = await barsStatement({
      symbol: 'VEQ',
      from: start + 1,
      to: start + 3 * MIN + 5,
      limit: 60,
    });
    // Tables here are small, so forbid the sequential scan the planner would rightly prefer on them.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using trades_symbol_time_idx on trades/);
      expect(plan).toMatch(
        /Index Cond: \(\(symbol = 'VEQ'::text\) AND \("time" >= .*\) AND \("time" < .*\)\)/,
      );
      expect(plan).not.toContain('IS NULL');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('returns exactly the bars of the view for the same range, whole minutes or not', async () => {
    const view = async (symbol: string | null, from: number | null, to: number | null) => {
      const { rows } = await pool.query(
        `SELECT ${timestamptzToMicrosSql('bucket')} AS bucket_us, symbol, open, high, low, close, volume, vwap,
                trade_count
           FROM bars_1m
          WHERE ($1::text IS NULL OR symbol = $1)
            AND ($2::int8 IS NULL OR bucket >= ${microsToTimestamptzSql('$2::int8')})
            AND ($3::int8 IS NULL OR bucket < ${microsToTimestamptzSql('$3::int8')})
          ORDER BY bucket, symbol`,
        [symbol, from, to],
      );
      return rows.map((r) => ({
        bucketUs: Number(r.bucket_us),
        symbol: r.symbol,
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
        vwap: r.vwap,
        tradeCount: Number(r.trade_count),
      }));
    };
    const ranges: Array<[number | null, number | null]> = [
      [start, start + 3 * MIN],
      [start + 1, start + 3 * MIN + 1],
      [start - 1, start + 3 * MIN - 1],
      [start + MIN - 1, start + 2 * MIN + 30_000_000],
      [start + 2 * MIN + 59_999_999, start + 4 * MIN + 123],
      [start + 90_000_000, start + 90_000_001], // inside one minute: no bucket starts there
      [start - 5 * MIN - 17, start + 99 * MIN + 17],
      [start + 2 * MIN + 1, null],
      [null, start + MIN + 1],
    ];
    for (const [from, to] of ranges) {
      for (const symbol of ['VEQ', null]) {
        // Without a symbol and a bounded range, the whole database's bars could exceed the limit.
        if (symbol === null && (from === null || to === null)) continue;
        const expected = await view(symbol, from, to);
        if (symbol !== null && from !== null && to !== null && to - from > MIN) {
          expect(expected.length).toBeGreaterThan(0);
        }
        const actual = await barsOneMinute(pool, {
          mode: 'postgres',
          ...(symbol === null ? {} : { symbol }),
          ...(from === null ? {} : { from }),
          ...(to === null ? {} : { to }),
          limit: 1000,
        });
        expect(actual, `symbol ${symbol}, [${from}, ${to})`).toEqual(expected);
      }
    }
  });
});

describe('contract on plain PostgreSQL', () => {
  contractTests({
    pool: () => pool,
    mode: 'postgres',
    writerOptions: () => ({ chunkRows: 500, maxStatementBytes: POSTGRES_WRITE_LIMITS.maxBytes }),
    runs: 40,
  });

  it('writes a batch larger than the chunk size in several statements', async () => {
    const w = createTradeWriter(pool, { chunkRows: 1000 });
    expect(await w.write(makeTrades(5_500, { symbol: 'BIG', idPrefix: 'big' }))).toEqual({ inserted: 5_500 });
    expect(await countTrades(pool, { symbol: 'BIG' })).toBe(5_500);
  });
});
