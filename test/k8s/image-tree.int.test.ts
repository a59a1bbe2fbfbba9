// The container image without a Docker engine: scripts/build-image-tree.sh is what the Dockerfile's
// build stage runs, so the tree it builds here is the image's /app. That tree, alone (started
// outside the repository, with no access to its node_modules), must answer `--help` for every
// subcommand, talk to Kafka, Redis and PostgreSQL through its own native Kafka client, and serve
// its health endpoints. The Dockerfile itself is checked for what cannot be run: stages, user,
// entrypoint, and that its runtime stage installs every shared library the native addon links.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { cacheDir, runCommand } from '@tickflow/stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from './support.ts';

const SUBCOMMANDS = ['produce', 'aggregate', 'migrate', 'up', 'bench', 'operator', 'dashboard'];
const BUILD_TIMEOUT = 45 * 60_000;

let work: string;
let app: string;
const children: ChildProcess[] = [];

/** The environment of the image: Node on PATH, production mode, nothing from this repository. */
function imageEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: work,
    TMPDIR: tmpdir(),
    NODE_ENV: 'production',
    ...extra,
  };
}

function tickflow(args: string[], extra: Record<string, string> = {}, timeoutMs = 120_000) {
  return runCommand(process.execPath, [join(app, 'apps/cli/bin/tickflow.js'), ...args], {
    cwd: app,
    env: imageEnv(extra),
    timeoutMs,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The Debian package that owns a file, trying the path as given and resolved, with and without /usr (usr-merge). */
function debianPackageOf(path: string): string {
  const real = realpathSync(path);
  const toggle = (p: string) => (p.startsWith('/usr/') ? p.slice(4) : `/usr${p}`);
  for (const candidate of [path, real, toggle(path), toggle(real)]) {
    try {
      return execFileSync('dpkg', ['-S', candidate], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).split(':')[0] as string;
    } catch {
      // not this spelling of the path
    }
  }
  throw new Error(`no Debian package owns ${path}`);
}

async function waitForStatus(
  url: string,
  status: number,
  timeoutMs: number,
  proc: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`process exited with ${proc.exitCode} before ${url} answered ${status}`);
    const got = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`${url}: ${got} instead of ${status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startFromTree(
  args: string[],
  extra: Record<string, string>,
): { proc: ChildProcess; output: () => string } {
  let output = '';
  const proc = spawn(process.execPath, [join(app, 'apps/cli/bin/tickflow.js'), ...args], {
    cwd: app,
    env: imageEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  children.push(proc);
  return { proc, output: () => output.slice(-4000) };
}

async function stop(proc: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tickflow-image-'));
  app = join(work, 'app');
  // dependencies are cached by package-lock.json/package.json contents: only the first run on a
  // machine (or after a dependency change) pays for npm ci and the librdkafka build
  await runCommand(
    'bash',
    [join(ROOT, 'scripts/build-image-tree.sh'), '--out', app, '--deps-cache', join(cacheDir(), 'image-deps')],
    {
      cwd: ROOT,
      timeoutMs: BUILD_TIMEOUT,
    },
  );
}, BUILD_TIMEOUT);

afterAll(async () => {
  for (const child of children) await stop(child, 5000);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the image tree (scripts/build-image-tree.sh)', () => {
  it.each(SUBCOMMANDS)('answers `tickflow %s --help` on its own', async (command) => {
    const { stdout } = await tickflow([command, '--help']);
    expect(stdout.trim().length).toBeGreaterThan(0);
  });

  it('holds production dependencies only, no tests, no build leftovers, no links out of the tree', () => {
    const nm = join(app, 'node_modules');
    for (const dev of [
      'vitest',
      'typescript',
      '@biomejs/biome',
      'fast-check',
      'protobufjs-cli',
      'playwright-core',
    ]) {
      expect(existsSync(join(nm, dev)), `${dev} is a devDependency`).toBe(false);
    }
    const kafka = join(nm, '@confluentinc/kafka-javascript');
    expect(existsSync(join(kafka, 'build/Release/confluent-kafka-javascript.node'))).toBe(true);
    expect(existsSync(join(kafka, 'deps/librdkafka'))).toBe(false);
    expect(readdirSync(join(kafka, 'build/deps')).filter((f) => f.endsWith('.a'))).toEqual([]);
    for (const dir of ['test', 'charts', 'k8s', '.git', 'apps/aggregator/test', 'packages/storage/test']) {
      expect(existsSync(join(app, dir)), dir).toBe(false);
    }
    // workspace links are relative and stay inside the tree
    const links = readdirSync(join(nm, '@tickflow')).map((name) => join(nm, '@tickflow', name));
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link).startsWith('/')).toBe(false);
      expect(relative(app, realpathSync(link)).startsWith('..')).toBe(false);
    }
  });

  it('migrates the database with `tickflow migrate`', async () => {
    const { databaseUrl } = inject('stack');
    const { stdout } = await tickflow(['migrate'], { DATABASE_URL: databaseUrl });
    expect(stdout).toMatch(/schema mode|already up to date|applied/);
  });

  it('produces to Kafka, and an aggregator serves /healthz, /readyz and /metrics, then drains on SIGTERM', async () => {
    const { brokers, redisUrl, databaseUrl } = inject('stack');
    const id = `image${process.pid}${Date.now().toString(36)}`;
    const topics = {
      TOPIC_RAW: `${id}-raw`,
      TOPIC_BARS: `${id}-bars`,
      TOPIC_ALERTS: `${id}-alerts`,
      TOPIC_DLQ: `${id}-dlq`,
    };
    // the producer creates the topic and proves the tree's native Kafka client works
    await tickflow(['produce', '--count', '200', '--rate', 'max', '--partitions', '2'], {
      KAFKA_BROKERS: brokers,
      TOPIC_RAW: topics.TOPIC_RAW,
    });
    const port = await freePort();
    const { proc, output } = startFromTree(['aggregate'], {
      ...topics,
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      KAFKA_GROUP_ID: id,
      REDIS_PREFIX: `${id}:`,
      METRICS_PORT: String(port),
      SHUTDOWN_TIMEOUT: '10s',
    });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/healthz`, 200, 120_000, proc);
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 120_000, proc);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/^tickflow_aggregator_consumed_total \d+/m);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- aggregator output ---\n${output()}`);
    }
    // tini forwards SIGTERM to exactly this process in the image: it must drain and exit cleanly
    expect(await stop(proc, 30_000), output()).toBe(0);
  });

  it('serves the producer health endpoints when the producer has METRICS_PORT', async (ctx) => {
    const { stdout: help } = await tickflow(['produce', '--help']);
    if (!help.includes('METRICS_PORT')) {
      ctx.skip(); // the producer's health server is being added in another change
      return;
    }
    const { brokers } = inject('stack');
    const port = await freePort();
    const { proc, output } = startFromTree(['produce', '--rate', '10'], {
      KAFKA_BROKERS: brokers,
      TOPIC_RAW: `image${process.pid}-producer-raw`,
      METRICS_PORT: String(port),
    });
    await waitForStatus(`http://127.0.0.1:${port}/healthz`, 200, 120_000, proc).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 120_000, proc);
    expect(await stop(proc, 30_000), output()).toBe(0);
  });

  it('serves the dashboard health endpoints when the dashboard exists', async (ctx) => {
    const { stdout: help } = await tickflow(['dashboard', '--help']);
    if (/not available/i.test(help)) {
      ctx.skip(); // the dashboard is being written in another change
      return;
    }
    const { brokers, redisUrl, databaseUrl } = inject('stack');
    const port = await freePort();
    const { proc, output } = startFromTree(['dashboard'], {
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      DASHBOARD_PORT: String(port),
    });
    await waitForStatus(`http://127.0.0.1:${port}/healthz`, 200, 120_000, proc).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 120_000, proc);
    expect(await stop(proc, 30_000), output()).toBe(0);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) as string;

  it('builds in a stage that runs scripts/build-image-tree.sh and ships only its output', () => {
    expect(stages).toHaveLength(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    expect(stages[0]).toMatch(/scripts\/build-image-tree\.sh --src \/src --out \/app/);
    expect(runtime).toMatch(/^COPY --from=build \/app \/app$/m);
    expect(runtime.match(/^COPY /gm)).toHaveLength(1);
  });

  it('runs as a numeric non-root user, with tini forwarding signals to the tickflow CLI', () => {
    const user = runtime.match(/^USER (\d+):(\d+)$/m);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    const entrypoint = JSON.parse(runtime.match(/^ENTRYPOINT (.+)$/m)?.[1] ?? '[]') as string[];
    expect(entrypoint).toEqual(['/usr/bin/tini', '-g', '--', 'node', '/app/apps/cli/bin/tickflow.js']);
    expect(runtime).toMatch(/\btini\b/);
    // the chart runs with readOnlyRootFilesystem and mounts /tmp
    expect(runtime).toMatch(/TMPDIR=\/tmp/);
  });

  it("installs, in the runtime stage, the Debian package of every shared library the tree's native code links", () => {
    const installLine = runtime.match(/apt-get install[^&]*/)?.[0] ?? '';
    const installed = new Set(installLine.split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w)));
    const natives = execFileSync('find', [join(app, 'node_modules'), '-type', 'f'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.node$|\.so(\.\d+)*$/.test(f));
    expect(natives.length).toBeGreaterThan(0);
    const missing = new Set<string>();
    for (const file of natives) {
      const ldd = execFileSync('ldd', [file], { encoding: 'utf8' });
      for (const m of ldd.matchAll(/^\s*(\S+) => (\/\S+)/gm)) {
        const [, , path] = m;
        if (!path || path.startsWith(app)) continue; // shipped in the tree (librdkafka)
        const pkg = debianPackageOf(path);
        if (pkg === 'libc6') continue; // every Debian image has it
        if (!installed.has(pkg)) missing.add(`${pkg} (${m[1]} for ${relative(app, file)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('has a .dockerignore that keeps node_modules, git, tests and Kubernetes files out of the context', () => {
    const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const rule of [
      '**/node_modules',
      '.git',
      'charts',
      'k8s',
      'test',
      'apps/*/test',
      'packages/*/test',
    ]) {
      expect(rules).toContain(rule);
    }
    expect(rules.filter((r) => r.startsWith('!'))).toEqual([]);
  });
});
