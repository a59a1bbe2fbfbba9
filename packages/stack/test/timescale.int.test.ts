import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive, isPortFree, startTimescale, type TimescaleInstance } from '../src/index.ts';

describe('startTimescale', () => {
  let ts: TimescaleInstance;
  let pool: pg.Pool;

  beforeAll(async () => {
    ts = await startTimescale();
    pool = new pg.Pool({ connectionString: ts.url, max: 4 });
  });

  afterAll(async () => {
    await pool?.end();
    await ts?.stop();
  });

  it('runs TimescaleDB through the pg client', async () => {
    expect(ts.url).toMatch(/^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(ts.timescaleVersion).toMatch(/^2\./);
    await pool.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    await pool.query(
      'CREATE TABLE ticks (time timestamptz NOT NULL, symbol text NOT NULL, price double precision)',
    );
    const { rows } = await pool.query<{ created: boolean }>(
      "SELECT created FROM create_hypertable('ticks', by_range('time', INTERVAL '1 hour'))",
    );
    expect(rows).toEqual([{ created: true }]);
    await pool.query(
      "INSERT INTO ticks VALUES ('2026-01-02T10:00:00Z', 'AAPL', 189.5), ('2026-01-02T12:00:00Z', 'AAPL', 190)",
    );
    const chunks = await pool.query<{ n: string }>("SELECT count(*) AS n FROM show_chunks('ticks')");
    expect(chunks.rows).toEqual([{ n: '2' }]);
  });

  it('accepts protocol messages far above 64 KiB (whole messages are passed to PGlite)', async () => {
    const big = 'x'.repeat(1_000_000);
    const { rows } = await pool.query<{ n: number }>('SELECT length($1::text) AS n', [big]);
    expect(rows).toEqual([{ n: 1_000_000 }]);
    const n = 5000;
    const times = Array.from({ length: n }, (_, i) =>
      new Date(Date.UTC(2026, 0, 3) + i * 1000).toISOString(),
    );
    const symbols = Array.from({ length: n }, (_, i) => `S${i % 20}`);
    const prices = Array.from({ length: n }, (_, i) => 100 + i / 100);
    await pool.query('INSERT INTO ticks SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::float8[])', [
      times,
      symbols,
      prices,
    ]);
    expect((await pool.query<{ n: string }>('SELECT count(*) AS n FROM ticks')).rows).toEqual([
      { n: String(n + 2) },
    ]);
  });

  it('supports COPY FROM STDIN (psql \\copy) and survives a failing COPY', async () => {
    const psql = (args: string[]) =>
      promisify(execFile)('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ts.url, ...args], {
        maxBuffer: 64 * 1024 * 1024,
      }).then((r) => r.stdout);
    await pool.query('CREATE TABLE copied (a int, b text)');
    await psql(['-c', '\\copy copied FROM PROGRAM \'seq 1 20000 | sed "s/$/\\tx/"\'']);
    expect((await pool.query<{ n: string }>('SELECT count(*) AS n FROM copied')).rows).toEqual([
      { n: '20000' },
    ]);
    await expect(psql(['-c', "\\copy no_such_table FROM PROGRAM 'seq 1 10'"])).rejects.toThrow(
      /does not exist/,
    );
    const out = await psql(['-c', 'COPY (SELECT a FROM copied ORDER BY a LIMIT 3) TO STDOUT']);
    expect(out).toBe('1\n2\n3\n');
  });

  it('multiplexes concurrent clients at transaction boundaries, with per-client statement names', async () => {
    await pool.query('CREATE TABLE counters (client int, i int)');
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          for (let i = 0; i < 5; i++) {
            await client.query({ name: 'ins', text: 'INSERT INTO counters VALUES ($1, $2)', values: [k, i] });
          }
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }),
    );
    const { rows } = await pool.query<{ n: string; clients: string }>(
      'SELECT count(*) AS n, count(DISTINCT client) AS clients FROM counters',
    );
    expect(rows).toEqual([{ n: '40', clients: '8' }]);
  });

  it('rolls back the transaction of a client that disconnects inside it', async () => {
    const client = new pg.Client({ connectionString: ts.url });
    client.on('error', () => {});
    await client.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO counters VALUES (-1, -1)');
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    // the next query waits until the server has released the abandoned session
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM counters WHERE client = -1');
    expect(rows).toEqual([{ n: '0' }]);
  });

  it('stops cleanly and releases its port', async () => {
    const other = await startTimescale();
    const c = new pg.Client({ connectionString: other.url });
    await c.connect();
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
    await other.stop();
    expect(isPidAlive(other.pid)).toBe(false);
    expect(await isPortFree(other.port)).toBe(true);
  });
});
