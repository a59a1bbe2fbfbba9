// PGlite + TimescaleDB served over the PostgreSQL wire protocol, in a child Node process.
//
// The child (timescale-server.ts) runs PGlite, the TimescaleDB build of @electric-sql/pglite,
// so a WASM abort ends that process and never the caller. What a client sees:
//  - PostgreSQL 17.5 (32-bit WASM), TimescaleDB 2.23.0-dev: `CREATE EXTENSION timescaledb`,
//    hypertables, continuous aggregates, compression and retention work.
//  - ONE backend session. By default (server 'framed', pglite-wire.ts) many clients may connect
//    at once and are multiplexed at transaction boundaries; session state (SET, temp tables,
//    SQL PREPARE, LISTEN) is shared between them; COPY FROM STDIN is supported (simple query
//    protocol, at most 256 MiB per COPY). With server 'pglite-socket' (upstream
//    PGLiteSocketServer 0.0.19) only one connection is served at a time, others queue for up to
//    60 s, and any message above 64 KiB aborts the instance; see pglite-wire.ts for details.
//  - The database name in the URL is ignored (current_database() is 'template1'); so are
//    user and password.
//  - Data lives in memory unless `dataDir` is given.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK } from './ports.ts';
import { createServiceDir, startService } from './process.ts';

export interface TimescaleOptions {
  /** Default: a free port chosen by the child itself (no allocation race). */
  port?: number;
  /** Persist the PGlite data directory here (default: in memory). */
  dataDir?: string;
  /** 'framed' (default, multi-client, no 64 KiB limit) or upstream 'pglite-socket'. */
  server?: 'framed' | 'pglite-socket';
  /** Node binary for the child (default: this process's node). Needs Node >= 22.18 for .ts. */
  nodeBinary?: string;
  /** Log every connection to the child's log. */
  debug?: boolean;
  /** Start from the cached pristine data dir (default true; ~1 s faster than initdb in WASM). */
  template?: boolean;
  readyTimeoutMs?: number;
}

export interface TimescaleInstance {
  /** postgres://postgres:postgres@127.0.0.1:PORT/postgres */
  url: string;
  host: string;
  port: number;
  /** PostgreSQL version of the PGlite build, e.g. '17.5'. */
  version: string;
  /** TimescaleDB extension version available, e.g. '2.23.0-dev'. */
  timescaleVersion: string;
  dir: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

const READY_PREFIX = 'TICKFLOW_READY ';

export function timescaleServerScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'timescale-server.ts');
}

export async function startTimescale(opts: TimescaleOptions = {}): Promise<TimescaleInstance> {
  const serviceDir = createServiceDir('timescale');
  const dir = serviceDir.path;
  const logFile = join(dir, 'timescale.log');
  const args = [
    '--disable-warning=ExperimentalWarning',
    timescaleServerScript(),
    '--host',
    LOOPBACK,
    '--port',
    String(opts.port ?? 0),
    '--server',
    opts.server ?? 'framed',
  ];
  if (opts.dataDir !== undefined) args.push('--data-dir', opts.dataDir);
  if (opts.debug) args.push('--debug');
  if (opts.template === false) args.push('--no-template');

  let ready: { port: number; postgres: string; timescaledb: string } | undefined;
  const readReady = (): boolean => {
    const text = readFileSync(logFile, 'utf8');
    const at = text.indexOf(READY_PREFIX);
    if (at < 0) return false;
    const line = text.slice(at + READY_PREFIX.length).split('\n')[0] ?? '';
    ready = JSON.parse(line) as typeof ready;
    return true;
  };
  try {
    const child = await startService({
      name: 'timescale',
      command: opts.nodeBinary ?? process.execPath,
      args,
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '' },
      logFile,
      stopSignal: 'SIGTERM',
      stopGraceMs: 5_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
      pollIntervalMs: 50,
      ready: async () => readReady(),
    });
    if (ready === undefined) throw new Error('timescale: ready line missing');
    const { port, postgres, timescaledb } = ready;
    return {
      url: `postgres://postgres:postgres@${LOOPBACK}:${port}/postgres`,
      host: LOOPBACK,
      port,
      version: postgres,
      timescaleVersion: timescaledb,
      dir,
      logFile,
      pid: child.pid,
      stop: async () => {
        await child.stop();
        serviceDir.remove();
      },
    };
  } catch (error) {
    serviceDir.remove();
    throw error;
  }
}
