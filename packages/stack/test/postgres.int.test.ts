import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPidAlive, isPortFree, startPostgres } from '../src/index.ts';

describe('startPostgres', () => {
  it('serves the tickflow database on loopback, then stops cleanly', async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/tickflow:tickflow@127\.0\.0\.1:\d+\/tickflow$/);
      expect(server.version).toMatch(/^\d+\.\d+/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const { rows } = await client.query<{
          db: string;
          usr: string;
          fsync: string;
          maxconn: string;
          sb: string;
          wal: string;
          ckpt: string;
          zero: string;
        }>(
          `SELECT current_database() AS db, current_user AS usr, current_setting('fsync') AS fsync,
                  current_setting('max_connections') AS maxconn, current_setting('shared_buffers') AS sb,
                  current_setting('max_wal_size') AS wal, current_setting('checkpoint_timeout') AS ckpt,
                  current_setting('wal_init_zero') AS zero`,
        );
        expect(rows[0]).toEqual({
          db: 'tickflow',
          usr: 'tickflow',
          fsync: 'on',
          maxconn: '200',
          sb: '256MB',
          wal: '4GB',
          ckpt: '15min',
          zero: 'off',
        });
        await client.query('CREATE TABLE t (id int primary key, v text)');
        await client.query("INSERT INTO t VALUES (1, 'a')");
        expect((await client.query('SELECT v FROM t')).rows).toEqual([{ v: 'a' }]);
      } finally {
        await client.end();
      }
      // a second, independent server at the same time
      const other = await startPostgres({ fsync: false, database: 'other', user: 'someone' });
      try {
        expect(other.port).not.toBe(server.port);
        const c2 = new pg.Client({ connectionString: other.url });
        await c2.connect();
        const { rows } = await c2.query<{ f: string; db: string }>(
          "SELECT current_setting('fsync') AS f, current_database() AS db",
        );
        expect(rows[0]).toEqual({ f: 'off', db: 'other' });
        await c2.end();
      } finally {
        await other.stop();
      }
    } finally {
      await server.stop();
    }
    expect(await isPortFree(server.port)).toBe(true);
    expect(isPidAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('stops with a client still connected (fast shutdown)', async () => {
    const server = await startPostgres();
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {});
    await client.connect();
    await client.query('BEGIN');
    await server.stop();
    expect(isPidAlive(server.pid)).toBe(false);
    expect(await isPortFree(server.port)).toBe(true);
    await client.end().catch(() => {});
  });
});
