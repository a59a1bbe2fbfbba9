// Connection pool with Tickflow's defaults, and errors that tell an operator which setting to fix.
import pg from 'pg';

export interface PoolOptions {
  /**
   * Most connections (default 10). Upstream pglite-socket serves one connection at a time (others queue,
   * so use 1 there); @tickflow/stack's PGlite server multiplexes clients onto its single session.
   */
  max?: number;
  /** Server-side statement_timeout in ms (default 30 000; 0 disables). Migrations lift it for their session. */
  statementTimeoutMs?: number;
  /** How long to wait for a TCP connection + authentication, in ms (default 10 000). */
  connectTimeoutMs?: number;
  /** Close idle connections after this many ms (default 30 000). */
  idleTimeoutMs?: number;
  /** Shown in pg_stat_activity (default 'tickflow'). */
  applicationName?: string;
  /** The variable the URL came from, named in errors (default 'DATABASE_URL'). */
  variable?: string;
  /**
   * Errors of idle pooled connections (server restart, network drop). pg emits them on the pool, where an
   * unhandled 'error' event would crash the process; the broken client is discarded either way.
   * Default: one line on stderr.
   */
  onIdleError?: (err: Error) => void;
  /** Check the server answers before returning (default true). */
  verify?: boolean;
}

/** The database URL is malformed or the server cannot be reached; the message names the variable. */
export class DatabaseConnectionError extends Error {
  override name = 'DatabaseConnectionError';
}

/** The URL with its password replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** Validates a postgres:// URL; returns null if fine, else what is wrong. Pure, for early config checks. */
export function checkDatabaseUrl(url: string | undefined): string | null {
  if (url === undefined || url.trim() === '') return 'is empty';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL (expected postgres://user:password@host:port/database)';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    return `has scheme ${u.protocol.replace(/:$/, '')}, expected postgres or postgresql`;
  }
  if (u.hostname === '' && !u.searchParams.has('host')) return 'names no host';
  if (u.port !== '' && !(Number(u.port) >= 1 && Number(u.port) <= 65535))
    return `has an invalid port ${u.port}`;
  return null;
}

/** Node reports a refused localhost connection as an AggregateError with an empty message. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join('; ');
  if (err instanceof Error) return err.message || String((err as { code?: unknown }).code ?? err.name);
  return String(err);
}

/**
 * Creates a pool and (unless `verify: false`) runs `SELECT 1` so a wrong URL or a down server fails here, at
 * start-up, with a message naming DATABASE_URL, instead of on the first write.
 */
export async function createPool(url: string | undefined, options: PoolOptions = {}): Promise<pg.Pool> {
  const variable = options.variable ?? 'DATABASE_URL';
  const problem = checkDatabaseUrl(url);
  if (problem !== null || url === undefined) {
    throw new DatabaseConnectionError(
      `${variable} ${problem ?? 'is empty'}: ${url ? redactUrl(url) : '(unset)'}`,
    );
  }
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tickflow',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    // Sent in the startup packet, so it is also the value RESET returns to.
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
  });
  const onIdleError =
    options.onIdleError ??
    ((err: Error) =>
      process.stderr.write(`tickflow storage: idle PostgreSQL connection failed: ${err.message}\n`));
  pool.on('error', onIdleError);
  if (options.verify ?? true) {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      const reason = describeError(err);
      throw new DatabaseConnectionError(
        `cannot reach PostgreSQL at ${variable}=${redactUrl(url)}: ${reason}`,
        {
          cause: err,
        },
      );
    }
  }
  return pool;
}
