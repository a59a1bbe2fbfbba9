// The page's bundle: built by Vite from apps/dashboard/web into apps/dashboard/dist-web, and rebuilt
// automatically whenever its inputs change. A stamp file holds the hash of every input (the web sources,
// the shared API types, this file, and the versions of Vite and lightweight-charts), so start-up costs one
// hash of a few files when nothing changed and a few seconds of `vite build` when something did.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const WEB_SRC_DIR = join(APP_DIR, 'web');
export const WEB_DIST_DIR = join(APP_DIR, 'dist-web');
const STAMP = '.build-stamp';

export type WebBuildMode = 'auto' | 'always' | 'never';

export interface WebBundle {
  /** The directory to serve, or null when there is no bundle (the API still works). */
  dir: string | null;
  built: boolean;
  /** Why dir is null. */
  problem?: string;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    let dir = dirname(require.resolve(name));
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg)) {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (json.name === name) return json.version ?? '?';
      }
      const up = dirname(dir);
      if (up === dir) return 'missing';
      dir = up;
    }
  } catch {
    return 'missing';
  }
}

/** Hash of everything the bundle is made from. */
export function webInputsHash(): string {
  const h = createHash('sha256');
  const files = [
    ...listFiles(WEB_SRC_DIR),
    join(APP_DIR, 'src', 'api-types.ts'),
    fileURLToPath(import.meta.url),
  ];
  for (const f of files) {
    h.update(relative(APP_DIR, f).split(sep).join('/'));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  h.update(`vite@${packageVersion('vite')} lightweight-charts@${packageVersion('lightweight-charts')}`);
  return h.digest('hex');
}

export function bundleIsCurrent(dist = WEB_DIST_DIR): boolean {
  if (!existsSync(join(dist, 'index.html'))) return false;
  // A production install (the container image: dev dependencies pruned, read-only file system) cannot
  // rebuild, so whatever bundle it was built with is the current one.
  if (!existsSync(WEB_SRC_DIR) || packageVersion('vite') === 'missing') return true;
  try {
    return readFileSync(join(dist, STAMP), 'utf8').trim() === webInputsHash();
  } catch {
    return false;
  }
}

/** Writes .gz and .br next to each compressible file, which @fastify/static serves when accepted. */
function precompress(dir: string): void {
  for (const file of listFiles(dir)) {
    if (!/\.(js|css|html|svg|json|map)$/.test(file) || statSync(file).size < 1024) continue;
    const data = readFileSync(file);
    writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
    writeFileSync(
      `${file}.br`,
      brotliCompressSync(data, {
        params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length },
      }),
    );
  }
}

/** Runs `vite build` into a fresh directory and swaps it in, so a concurrent reader never sees half a bundle. */
export async function buildWebBundle(log: (line: string) => void = () => {}): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new Error(
      'the dashboard page is not built and Vite is not installed (a production install?): ' +
        'run `npm run build -w @tickflow/dashboard` where dev dependencies are installed, or set DASHBOARD_WEB_DIR',
    );
  }
  const hash = webInputsHash();
  const tmp = `${WEB_DIST_DIR}.tmp-${process.pid}-${Date.now()}`;
  const started = performance.now();
  await vite.build({
    root: WEB_SRC_DIR,
    base: './',
    configFile: false,
    envDir: false,
    logLevel: 'warn',
    clearScreen: false,
    css: { postcss: { plugins: [] } },
    build: {
      outDir: tmp,
      emptyOutDir: true,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 800,
      sourcemap: false,
    },
  });
  precompress(tmp);
  writeFileSync(join(tmp, STAMP), `${hash}\n`);
  const old = `${WEB_DIST_DIR}.old-${process.pid}-${Date.now()}`;
  if (existsSync(WEB_DIST_DIR)) renameSync(WEB_DIST_DIR, old);
  renameSync(tmp, WEB_DIST_DIR);
  rmSync(old, { recursive: true, force: true });
  log(
    `built the dashboard page in ${Math.round(performance.now() - started)} ms (${relative(process.cwd(), WEB_DIST_DIR) || WEB_DIST_DIR})`,
  );
}

/** One builder per work tree at a time: a lock directory, taken over when older than two minutes. */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = `${WEB_DIST_DIR}.lock`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > 120_000 || Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The bundle to serve. `auto` builds when it is missing or its inputs changed, `always` rebuilds,
 * `never` only checks. An explicit directory (DASHBOARD_WEB_DIR) is served as is.
 */
export async function ensureWebBundle(
  mode: WebBuildMode,
  explicitDir: string | undefined,
  log: (line: string) => void = () => {},
): Promise<WebBundle> {
  if (explicitDir !== undefined) {
    return existsSync(join(explicitDir, 'index.html'))
      ? { dir: explicitDir, built: false }
      : { dir: null, built: false, problem: `no index.html in DASHBOARD_WEB_DIR=${explicitDir}` };
  }
  if (mode === 'never' || (mode === 'auto' && bundleIsCurrent())) {
    return existsSync(join(WEB_DIST_DIR, 'index.html'))
      ? { dir: WEB_DIST_DIR, built: false }
      : { dir: null, built: false, problem: 'the page is not built (npm run build -w @tickflow/dashboard)' };
  }
  if (!existsSync(WEB_SRC_DIR))
    return { dir: null, built: false, problem: `no page sources in ${WEB_SRC_DIR}` };
  return withBuildLock(async () => {
    // Another process may have built it while we waited for the lock.
    if (mode === 'auto' && bundleIsCurrent()) return { dir: WEB_DIST_DIR, built: false };
    log('building the dashboard page (Vite)');
    await buildWebBundle(log);
    return { dir: WEB_DIST_DIR, built: true };
  });
}
