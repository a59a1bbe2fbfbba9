// Versioned, idempotent schema migrations. Each version is applied once, in its own transaction, and
// recorded in schema_migrations; concurrent migrators (several aggregators starting together) queue on a
// transaction-scoped advisory lock, so the second one finds everything applied and does nothing.
import type pg from 'pg';
import { type PolicyOptions, type RefreshPolicy, reconcilePolicies } from './policies.ts';
import type { Queryable } from './queryable.ts';
import {
  alertsDdl,
  barsDdl,
  bucketIndexDdl,
  compressionDdl,
  extensionDdl,
  identityKeyDdl,
  type SchemaMode,
  type SchemaOptions,
  type Statement,
  tradesDdl,
} from './schema.ts';
import { inspectServer, type ServerInfo } from './server.ts';

export interface Migration {
  version: number;
  name: string;
  /** The statements for the chosen path; an empty list still records the version (numbering is shared). */
  statements(mode: SchemaMode, options: SchemaOptions): Statement[];
}

/** Released migrations never change; new ones are appended with the next version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'timescaledb extension (TimescaleDB path only)',
    statements: (mode) => extensionDdl(mode),
  },
  {
    version: 2,
    name: 'trades table, identity and time indexes',
    statements: (mode, o) => tradesDdl(mode, o),
  },
  { version: 3, name: 'bars_1m (continuous aggregate or view)', statements: (mode) => barsDdl(mode) },
  { version: 4, name: 'price_alerts table', statements: () => alertsDdl() },
  {
    version: 5,
    name: 'trades compression settings (TimescaleDB path only)',
    statements: (m) => compressionDdl(m),
  },
  {
    version: 6,
    name: 'single-value trade identity index (plain PostgreSQL only)',
    statements: (m) => identityKeyDdl(m),
  },
  {
    version: 7,
    name: 'drop the minute-bucket index of trades (plain PostgreSQL only)',
    statements: (m) => bucketIndexDdl(m),
  },
];

export interface MigrateOptions {
  /** 'auto' (default): TimescaleDB if the extension is available; 'require': fail without it; 'off': plain. */
  timescale?: 'auto' | 'require' | 'off';
  /** TimescaleDB chunk interval of trades (default '1 day'). */
  chunkInterval?: string;
  /** Compress trades chunks older than this (default '7 days'); null disables. TimescaleDB only. */
  compressAfter?: string | null;
  /** Drop trades chunks older than this (default '90 days'); null disables. TimescaleDB only. */
  retention?: string | null;
  /** bars_1m refresh policy (default: all history .. now - 1 minute, every minute); null disables. */
  refresh?: Partial<RefreshPolicy> | null;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** Versions applied by this call, ascending; empty when the schema was already current. */
  applied: number[];
  mode: SchemaMode;
  server: ServerInfo;
  /** TimescaleDB policy changes made by this call. */
  policyChanges: string[];
}

/** Session advisory lock key: 'tickflow' in ASCII as an int8. */
export const MIGRATION_LOCK_KEY = '8388350395398630007';

export const DEFAULT_REFRESH: RefreshPolicy = {
  startOffset: null,
  endOffset: '1 minute',
  scheduleInterval: '1 minute',
};

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Resolves the option defaults; pure, exported for tests and `tickflow migrate --help` style output. */
export function resolvePolicyOptions(options: MigrateOptions): PolicyOptions {
  return {
    chunkInterval: options.chunkInterval ?? '1 day',
    compressAfter: options.compressAfter === undefined ? '7 days' : options.compressAfter,
    retention: options.retention === undefined ? '90 days' : options.retention,
    refresh: options.refresh === null ? null : { ...DEFAULT_REFRESH, ...options.refresh },
  };
}

/**
 * Picks the path. An existing schema decides by itself (is `trades` a hypertable?): switching paths under
 * data is a manual conversion, never a side effect of an option or of an extension appearing later.
 */
export function chooseMode(
  requested: 'auto' | 'require' | 'off',
  server: Pick<ServerInfo, 'timescaleAvailable'>,
  existing: SchemaMode | null,
): SchemaMode {
  if (existing !== null) {
    if (requested === 'require' && existing === 'postgres') {
      throw new MigrationError(
        'timescale: require, but this database was migrated without TimescaleDB (trades is a plain table)',
      );
    }
    if (requested === 'off' && existing === 'timescale') {
      throw new MigrationError(
        'timescale: off, but this database was migrated with TimescaleDB (trades is a hypertable)',
      );
    }
    return existing;
  }
  if (requested === 'off') return 'postgres';
  if (server.timescaleAvailable) return 'timescale';
  if (requested === 'require') {
    throw new MigrationError(
      'timescale: require, but the timescaledb extension is not available on this server',
    );
  }
  return 'postgres';
}

/**
 * The path an existing schema was migrated on (is `trades` a hypertable?), or null before the first
 * migration. Fixed once `trades` exists (migrate never switches paths), so readers may cache it.
 */
export async function schemaMode(db: Queryable): Promise<SchemaMode | null> {
  const { rows } = await db.query<{ exists: boolean; ts: boolean }>(
    `SELECT to_regclass('trades') IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS ts`,
  );
  if (!rows[0]?.exists) return null;
  if (!rows[0].ts) return 'postgres';
  const ht = await db.query(
    `SELECT 1 FROM timescaledb_information.hypertables
      WHERE hypertable_schema = current_schema() AND hypertable_name = 'trades'`,
  );
  return ht.rowCount ? 'timescale' : 'postgres';
}

/**
 * Runs `fn` in a transaction holding the migration lock. A transaction-scoped advisory lock (rather than a
 * session lock held across all versions) needs no session state, so it also serialises migrators that
 * share one backend session, as clients of PGlite's multiplexing wire server do.
 */
async function locked<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    // Waiting for another migrator, or building an index over a big table, may outlast the pool's
    // statement_timeout; SET LOCAL ends with the transaction.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1::int8)', [MIGRATION_LOCK_KEY]);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * Brings the schema up to date. Safe to call at every start-up and from several processes at once: each
 * version is applied in its own transaction under the lock, after re-checking that nobody applied it
 * meanwhile. Holds one connection of `pool` for its duration.
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const policy = resolvePolicyOptions(options);
  const requested = options.timescale ?? 'auto';
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await locked(client, () =>
      client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`),
    );
    const applied: number[] = [];
    let mode: SchemaMode | undefined;
    for (const m of MIGRATIONS) {
      await locked(client, async () => {
        // Re-read under the lock: the path and the applied set may have been settled by another migrator.
        mode = chooseMode(requested, await inspectServer(client), await schemaMode(client));
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (done.rowCount) return;
        log(`applying migration ${m.version}: ${m.name} (${mode})`);
        try {
          for (const st of m.statements(mode, { chunkInterval: policy.chunkInterval })) {
            await client.query(st.text, st.values);
          }
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new MigrationError(`migration ${m.version} (${m.name}) failed on the ${mode} path: ${msg}`, {
            cause: err,
          });
        }
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ]);
        applied.push(m.version);
      });
    }
    const server = await inspectServer(client);
    const finalMode = mode ?? chooseMode(requested, server, await schemaMode(client));
    const policyChanges =
      finalMode === 'timescale' ? await locked(client, () => reconcilePolicies(client, policy)) : [];
    for (const c of policyChanges) log(c);
    return { applied, mode: finalMode, server, policyChanges };
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // A connection whose state is unknown after an error is destroyed rather than returned to the pool.
    client.release(broken);
  }
}

/** Versions recorded in schema_migrations (empty if the table does not exist yet). */
export async function appliedMigrations(
  pool: pg.Pool,
): Promise<Array<{ version: number; name: string; appliedAt: Date }>> {
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return [];
  const { rows } = await pool.query<{ version: number; name: string; applied_at: Date }>(
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
}
