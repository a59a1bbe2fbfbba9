import { describe, expect, it } from 'vitest';
import {
  chooseMode,
  DEFAULT_REFRESH,
  MIGRATIONS,
  MigrationError,
  resolvePolicyOptions,
} from '../src/migrations.ts';
import { ARRIVAL_KEY_SQL, barsDdl, tradesDdl } from '../src/schema.ts';

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
