// What the connected server offers: decides the TimescaleDB path and PGlite's limits.
import type { Queryable } from './queryable.ts';

export interface ServerInfo {
  /** server_version, e.g. '15.18' or '17.5'. */
  version: string;
  /** server_version_num, e.g. 150018. */
  versionNum: number;
  /** PGlite (PostgreSQL compiled to WASM): one connection at a time, protocol messages must stay < ~64 KB. */
  pglite: boolean;
  /** The timescaledb extension can be created (pg_available_extensions). */
  timescaleAvailable: boolean;
  /** Installed version of timescaledb in this database, or null. */
  timescaleInstalled: string | null;
}

export async function inspectServer(db: Queryable): Promise<ServerInfo> {
  const { rows } = await db.query<{
    version: string;
    version_num: string;
    full_version: string;
    ts_available: boolean;
    ts_installed: string | null;
  }>(`SELECT current_setting('server_version') AS version,
            current_setting('server_version_num') AS version_num,
            version() AS full_version,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS ts_available,
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS ts_installed`);
  const row = rows[0];
  if (!row) throw new Error('server returned no row for its version');
  return {
    version: row.version,
    versionNum: Number(row.version_num),
    // PGlite's version() names the Emscripten compiler it was built with.
    pglite: /emscripten|emcc/i.test(row.full_version),
    timescaleAvailable: row.ts_available,
    timescaleInstalled: row.ts_installed,
  };
}
