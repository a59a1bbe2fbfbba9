import { describe, expect, it } from 'vitest';
import {
  chooseMode,
  DEFAULT_REFRESH,
  MIGRATIONS,
  MigrationError,
  resolvePolicyOptions,
} from '../src/migrations.ts';
import { ARRIVAL_KEY_SQL, barsDdl, barsRangeSql, bucketIndexDdl, tradesDdl } from '../src/schema.ts';

const opts = { chunkInterval: '6 hours' };

describe('MIGRATIONS', () => {
  it('numbers versions 1..n without gaps, with a name each', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name.length).toBeGreaterThan(0);
  });

  it('passes option values as bind parameters, never in the SQL text', () => {
    for (const mode of ['timescale', 'postgres'] as const) {
      for (const m of MIGRATIONS) {
        for (const s of m.statements(mode, opts)) expect(s.text).not.toContain('6 hours');
      }
    }
    const hypertable = tradesDdl('timescale', opts).find((s) => s.text.includes('create_hypertable'));
    expect(hypertable?.values).toEqual(['6 hours']);
  });

  it('adds the partitioning column to the identity index only on TimescaleDB', () => {
    const identity = (mode: 'timescale' | 'postgres') =>
      tradesDdl(mode, opts).find((s) => s.text.includes('trades_identity_key'))?.text;
    expect(identity('postgres')).toContain('(source, symbol, trade_id)');
    expect(identity('timescale')).toContain('(source, symbol, trade_id, time)');
  });

  it('defines bars_1m with real-time aggregation and the arrival tie-break on both paths', () => {
    const [cagg] = barsDdl('timescale').map((s) => s.text);
    expect(cagg).toContain('timescaledb.materialized_only = false');
    expect(cagg).toContain(`first(price, ${ARRIVAL_KEY_SQL}) AS open`);
    expect(cagg).toContain(`last(price, ${ARRIVAL_KEY_SQL}) AS close`);
    expect(ARRIVAL_KEY_SQL).toMatch(
      /^\(lpad\(to_hex\(.*time - .*ingest_time - .*stored_at - .*\|\| trade_id\) COLLATE "C"$/,
    );
    const view = barsDdl('postgres')[0]?.text ?? '';
    expect(view).toContain('CREATE VIEW bars_1m');
    expect(view).toContain('ORDER BY time DESC, ingest_time DESC, stored_at DESC, trade_id COLLATE "C" DESC');
  });

  it('keeps the released plain view of migration 3 (its body is shared with barsRangeSql) unchanged', () => {
    expect(barsDdl('postgres').map((s) => s.text)).toEqual([
      `CREATE VIEW bars_1m AS
SELECT date_bin(interval '1 minute', time, timestamptz '1970-01-01 00:00:00+00') AS bucket,
  symbol,
  (array_agg(price ORDER BY time, ingest_time, stored_at, trade_id COLLATE "C"))[1] AS open,
  max(price) AS high,
  min(price) AS low,
  (array_agg(price ORDER BY time DESC, ingest_time DESC, stored_at DESC, trade_id COLLATE "C" DESC))[1] AS close,
  sum(size) AS volume,
  sum(price * size) / sum(size) AS vwap,
  count(*) AS trade_count
FROM trades
GROUP BY 1, 2`,
    ]);
  });

  it('drops the minute-bucket index in migration 7 on plain PostgreSQL only', () => {
    const v7 = MIGRATIONS.find((m) => m.version === 7);
    expect(v7?.statements('postgres', opts).map((s) => s.text)).toEqual([
      'DROP INDEX IF EXISTS trades_symbol_bucket_idx',
    ]);
    expect(v7?.statements('timescale', opts)).toEqual([]);
    expect(bucketIndexDdl('timescale')).toEqual([]);
  });
});

describe('barsRangeSql', () => {
  const range = { symbol: '$1::text', from: '$2::int8', to: '$3::int8' };

  it('on plain PostgreSQL aggregates trades with the view body itself, the range on trades.time', () => {
    const view = (barsDdl('postgres')[0]?.text ?? '').replace('CREATE VIEW bars_1m AS\n', '');
    const [select, groupBy] = view.split('\nFROM trades\n');
    const sql = barsRangeSql('postgres', range);
    expect(sql.startsWith(`(${select}\nFROM trades\nWHERE `)).toBe(true);
    expect(sql.endsWith(`\n${groupBy}) bars_1m`)).toBe(true);
    expect(sql).toContain('($1::text IS NULL OR symbol = $1::text)');
    expect(sql).toMatch(
      /\(\$2::int8 IS NULL OR time >= date_bin\(interval '1 minute', .*\$2::int8.* \+ interval '59\.999999 seconds'/,
    );
    expect(sql).toMatch(
      /\(\$3::int8 IS NULL OR time < date_bin\(interval '1 minute', .*\$3::int8.* \+ interval '59\.999999 seconds'/,
    );
    expect(sql).not.toContain('bucket >=');
  });

  it('on TimescaleDB filters the continuous aggregate on bucket', () => {
    const sql = barsRangeSql('timescale', range);
    expect(sql).toMatch(/^\(SELECT \* FROM bars_1m\nWHERE /);
    expect(sql).toMatch(/\$2::int8 IS NULL OR bucket >= /);
    expect(sql).toMatch(/\$3::int8 IS NULL OR bucket < /);
    expect(sql).not.toContain('trades');
  });

  it('leaves out the filters it is not given', () => {
    expect(barsRangeSql('timescale', {})).toBe('(SELECT * FROM bars_1m\nWHERE true) bars_1m');
    expect(barsRangeSql('postgres', {})).toContain('\nWHERE true\nGROUP BY 1, 2) bars_1m');
  });
});

describe('chooseMode', () => {
  const available = { timescaleAvailable: true };
  const missing = { timescaleAvailable: false };

  it('uses TimescaleDB when available unless turned off', () => {
    expect(chooseMode('auto', available, null)).toBe('timescale');
    expect(chooseMode('auto', missing, null)).toBe('postgres');
    expect(chooseMode('off', available, null)).toBe('postgres');
    expect(chooseMode('require', available, null)).toBe('timescale');
    expect(() => chooseMode('require', missing, null)).toThrow(MigrationError);
  });

  it('follows an existing schema and refuses options that contradict it', () => {
    expect(chooseMode('auto', available, 'postgres')).toBe('postgres');
    expect(chooseMode('auto', missing, 'timescale')).toBe('timescale');
    expect(() => chooseMode('require', available, 'postgres')).toThrow(/migrated without TimescaleDB/);
    expect(() => chooseMode('off', available, 'timescale')).toThrow(/hypertable/);
  });
});

describe('resolvePolicyOptions', () => {
  it('fills defaults and keeps explicit nulls (disabled policies)', () => {
    expect(resolvePolicyOptions({})).toEqual({
      chunkInterval: '1 day',
      compressAfter: '7 days',
      retention: '90 days',
      refresh: DEFAULT_REFRESH,
    });
    const off = resolvePolicyOptions({ compressAfter: null, retention: null, refresh: null });
    expect(off).toMatchObject({ compressAfter: null, retention: null, refresh: null });
    expect(resolvePolicyOptions({ refresh: { endOffset: '5 minutes' } }).refresh).toEqual({
      ...DEFAULT_REFRESH,
      endOffset: '5 minutes',
    });
  });
});
