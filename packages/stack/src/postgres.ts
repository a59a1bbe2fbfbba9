// A throwaway PostgreSQL server on a free loopback port, in a fresh temp dir.
//
// initdb runs once per PostgreSQL version into a template cluster cached in
// `<cache>/postgres-<version>/template`; each start copies it (`cp -a`, ~50 ms instead of
// ~700 ms for initdb). As root, the server and initdb run as the `postgres` OS user (postgres
// refuses root); the temp dir is chowned to it. Authentication is `trust` on loopback and the
// unix socket (the socket lives in the temp dir, not /var/run/postgresql).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, postgresBinDir } from './paths.ts';
import { freePort, isPortOpen, LOOPBACK } from './ports.ts';
import { createServiceDir, publishDirectory, retryOnPortClash, runCommand, startService } from './process.ts';

export interface PostgresOptions {
  /** fsync (default true). false also turns off synchronous_commit and full_page_writes. */
  fsync?: boolean;
  /** Default: a free port. */
  port?: number;
  /** Database created for the role (default 'tickflow'). */
  database?: string;
  /** Login role created as a superuser of this throwaway server (default 'tickflow'). */
  user?: string;
  /** Put into the URL; authentication is trust on loopback (default 'tickflow'). */
  password?: string;
  /** Extra postgresql.conf settings, e.g. `{ max_wal_size: '2GB' }`; override the defaults. */
  settings?: Record<string, string | number | boolean>;
  /** Keep the temp dir after stop() (default false). */
  keepDataDir?: boolean;
  readyTimeoutMs?: number;
}

export interface PostgresInstance {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** Server version, e.g. '15.18'. */
  version: string;
  /** Temp dir holding data/, the socket and postgres.log. */
  dir: string;
  dataDir: string;
  /** Directory of the unix socket (usable as host= for libpq clients). */
  socketDir: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

const versionCache = new Map<string, string>();

/** The server version of the binaries in binDir, e.g. '15.18'. */
export async function postgresVersion(binDir: string = postgresBinDir()): Promise<string> {
  const cached = versionCache.get(binDir);
  if (cached !== undefined) return cached;
  const { stdout } = await runCommand(join(binDir, 'postgres'), ['--version']);
  const version = /(\d+(?:\.\d+)+)/.exec(stdout)?.[1] ?? stdout.trim();
  versionCache.set(binDir, version);
  return version;
}

/** Make sure the cached initdb template for this version exists; returns its path. */
export async function ensurePostgresTemplate(binDir: string = postgresBinDir()): Promise<string> {
  const version = await postgresVersion(binDir);
  const base = join(cacheDir(), `postgres-${version}`);
  const template = join(base, 'template');
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  await mkdir(base, { recursive: true });
  // initdb where the postgres user can write (it cannot enter /root/.cache), then move it in.
  const work = mkdtempSync(join(tmpdir(), 'tickflow-initdb-'));
  try {
    const data = join(work, 'data');
    if (isRoot()) await runCommand('chown', [SUPERUSER, work]);
    await runCommand(
      join(binDir, 'initdb'),
      ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
      { runAs: isRoot() ? SUPERUSER : undefined, timeoutMs: 120_000 },
    );
    await publishDirectory(data, template, 'PG_VERSION');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

function confValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

export function startPostgres(opts: PostgresOptions = {}): Promise<PostgresInstance> {
  return opts.port !== undefined ? startPostgresOnce(opts) : retryOnPortClash(() => startPostgresOnce(opts));
}

async function startPostgresOnce(opts: PostgresOptions): Promise<PostgresInstance> {
  const binDir = postgresBinDir();
  const [template, version, port] = await Promise.all([
    ensurePostgresTemplate(binDir),
    postgresVersion(binDir),
    opts.port !== undefined ? Promise.resolve(opts.port) : freePort(),
  ]);
  const database = opts.database ?? 'tickflow';
  const user = opts.user ?? 'tickflow';
  const password = opts.password ?? 'tickflow';
  const fsync = opts.fsync ?? true;

  const serviceDir = createServiceDir('pg', opts.keepDataDir);
  const dir = serviceDir.path;
  const dataDir = join(dir, 'data');
  const socketDir = dir;
  const logFile = join(dir, 'postgres.log');
  const runAs = isRoot() ? SUPERUSER : undefined;
  try {
    await runCommand('cp', ['-a', template, dataDir]);
    if (runAs !== undefined) await runCommand('chown', ['-R', `${runAs}:`, dir]);

    const settings: Record<string, string | number | boolean> = {
      listen_addresses: LOOPBACK,
      port,
      unix_socket_directories: socketDir,
      max_connections: 200,
      shared_buffers: '256MB',
      // Write-heavy ingest: the default 1GB WAL budget started a checkpoint every ~2 min at 20k
      // trades/s, and the full-page images after each one slowed every commit (measured at 20k
      // msg/s: sink write p50 1.5 -> 1.0 ms, end-to-end mean 6-10 -> 4.6-5.2 ms per 5 s interval).
      // Checkpoints now come every 15 min unless 4GB of WAL accumulates first.
      max_wal_size: '4GB',
      checkpoint_timeout: '15min',
      // A fresh server has no recycled WAL segments, so each new 16 MB segment (one every ~2.3 s at
      // 20k trades/s) was zero-filled and fsynced while commits waited for it. Created sparse instead:
      // in four alternating pairs of 20k msg/s bench runs, sink write p99.9 went from 14-28 to 6-13 ms
      // and end-to-end p99 from a median of ~41 to ~25 ms, with commit p50 no slower.
      wal_init_zero: false,
      fsync,
      ...(fsync ? {} : { synchronous_commit: false, full_page_writes: false }),
      logging_collector: false,
      log_destination: 'stderr',
      ...opts.settings,
    };
    const args = ['-D', dataDir];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${confValue(value)}`);

    const server = await startService({
      name: 'postgres',
      command: join(binDir, 'postgres'),
      args,
      logFile,
      runAs,
      stopSignal: 'SIGINT', // fast shutdown: roll back open transactions, disconnect clients
      stopGraceMs: 15_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
      pollIntervalMs: 50,
      ready: async () =>
        readFileSync(logFile, 'utf8').includes('database system is ready to accept connections') &&
        (await isPortOpen(port)),
    });

    const stop = async (): Promise<void> => {
      await server.stop();
      serviceDir.remove();
    };

    try {
      const psql = (sql: string, db = 'postgres') =>
        runCommand(
          join(binDir, 'psql'),
          [
            '-X',
            '-q',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            socketDir,
            '-p',
            String(port),
            '-U',
            SUPERUSER,
            '-d',
            db,
            '-c',
            sql,
          ],
          { timeoutMs: 30_000 },
        );
      const quotedUser = `"${user.replaceAll('"', '""')}"`;
      if (user !== SUPERUSER) {
        await psql(`CREATE ROLE ${quotedUser} LOGIN SUPERUSER PASSWORD '${password.replaceAll("'", "''")}'`);
      }
      if (database !== 'postgres') {
        await psql(`CREATE DATABASE "${database.replaceAll('"', '""')}" OWNER ${quotedUser}`);
      }
    } catch (error) {
      await stop();
      throw error;
    }

    return {
      url: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/${encodeURIComponent(database)}`,
      host: LOOPBACK,
      port,
      database,
      user,
      password,
      version,
      dir,
      dataDir,
      socketDir,
      logFile,
      pid: server.pid,
      stop,
    };
  } catch (error) {
    serviceDir.remove();
    throw error;
  }
}
