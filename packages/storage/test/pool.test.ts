import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkDatabaseUrl, createPool, DatabaseConnectionError, redactUrl } from '../src/pool.ts';

/** A loopback port nobody listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('checkDatabaseUrl', () => {
  it('accepts postgres URLs and says what is wrong with others', () => {
    expect(checkDatabaseUrl('postgres://localhost:5432/tickflow')).toBeNull();
    expect(checkDatabaseUrl('postgresql://u:p@127.0.0.1/db')).toBeNull();
    expect(checkDatabaseUrl(undefined)).toBe('is empty');
    expect(checkDatabaseUrl('localhost:5432')).toMatch(/scheme localhost|not a URL/);
    expect(checkDatabaseUrl('mysql://localhost/db')).toMatch(/scheme mysql/);
    expect(checkDatabaseUrl('not a url')).toMatch(/not a URL/);
  });
});

describe('redactUrl', () => {
  it('hides the password', () => {
    expect(redactUrl('postgres://user:secret@host:5432/db')).toBe('postgres://user:***@host:5432/db');
  });
});

describe('createPool', () => {
  it('rejects a malformed URL naming DATABASE_URL, without leaking the password', async () => {
    const err = await createPool('mysql://u:secret@localhost/db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectionError);
    expect(String(err)).toContain('DATABASE_URL');
    expect(String(err)).not.toContain('secret');
  });

  it('rejects an unreachable server naming DATABASE_URL and the reason', async () => {
    const url = `postgres://u:secret@127.0.0.1:${await closedPort()}/db`;
    const err = await createPool(url, { connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectionError);
    expect(String(err)).toMatch(/cannot reach PostgreSQL at DATABASE_URL=postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
    expect(String(err)).toMatch(/ECONNREFUSED/);
  });

  it('names another variable when told to', async () => {
    await expect(createPool('', { variable: 'TICKFLOW_DB' })).rejects.toThrow(/TICKFLOW_DB is empty/);
  });
});
