// Child processes for services: logs to a file, readiness polling, graceful stop, no orphans.
//
// Orphan protection, two layers:
//  1. every child is tracked and SIGKILLed synchronously from process.on('exit') (normal exit,
//     process.exit(), an uncaught exception);
//  2. when util-linux `setpriv` exists (Debian: always), the child is started through
//     `setpriv --pdeathsig KILL`, so the kernel kills it even when the parent dies from a signal
//     (SIGKILL, an unhandled SIGTERM/SIGINT) and 'exit' handlers never run. setpriv execs the
//     service, so the pid we hold is the service itself. It is also how services that refuse root
//     (PostgreSQL) are run as another user: `--reuid/--regid/--init-groups` are applied before the
//     death signal is armed (the kernel clears it on credential changes), which we rely on.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const SETPRIV = '/usr/bin/setpriv';

export interface ServiceSpec {
  /** Short name used in errors, e.g. 'postgres'. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr of the child are appended to this file (the child writes it directly). */
  logFile: string;
  /** Other logs the service writes itself (e.g. Kafka's server.log); their tails go into errors too. */
  extraLogFiles?: readonly string[];
  /** Run as this OS user (only applied when we are root; needs setpriv). */
  runAs?: string;
  /** Polled until it resolves true; exceptions count as "not ready yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Signal for a graceful stop (default SIGTERM; PostgreSQL wants SIGINT = fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** How long stop() waits after stopSignal before SIGKILL (default 10 s). */
  stopGraceMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** Graceful stop, SIGKILL after the grace period. Idempotent; fine on an already-dead process. */
  stop(): Promise<ExitInfo>;
  /** Last lines of the service's log files. */
  logTail(lines?: number): string;
}

export class ServiceStartError extends Error {
  readonly service: string;
  readonly logTail: string;
  constructor(service: string, reason: string, logTail: string) {
    super(`${service} failed to start: ${reason}\n--- last lines of ${service} logs ---\n${logTail}`);
    this.name = 'ServiceStartError';
    this.service = service;
    this.logTail = logTail;
  }
}

/** True when a service failed because its port was taken between allocation and bind. */
export function isAddressInUse(error: unknown): boolean {
  return (
    error instanceof ServiceStartError &&
    /Address already in use|EADDRINUSE|BindException|could not bind|bind\(\) failed/i.test(error.logTail)
  );
}

/**
 * Retry a start that allocates its own free ports when the port was grabbed by someone else in
 * the meantime (free-port allocation is inherently racy). Other errors are thrown at once.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !isAddressInUse(error)) throw error;
    }
  }
}

// ---- tracking, for the synchronous kill on exit -------------------------------------------

const live = new Set<ChildProcess>();
const cleanupPaths = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const path of cleanupPaths) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // best effort; a child may still hold files for a moment
      }
    }
  });
}

/** Remove this path (a service's temp dir) when the process exits, unless unregistered first. */
export function removeOnExit(path: string): () => void {
  installExitHook();
  cleanupPaths.add(path);
  return () => cleanupPaths.delete(path);
}

const SERVICE_DIR = /^tickflow-(pg|redis|kafka|timescale|initdb|kafka-format)-/;
const OWNER_FILE = '.tickflow-owner';
const KEEP_FILE = '.tickflow-keep';
let swept = false;

/**
 * Remove service temp dirs left behind by processes that died without cleaning up (SIGKILL,
 * OOM): their owner pid is gone. Dirs created with keep are left alone. Runs once per process.
 */
export function sweepStaleServiceDirs(base: string = tmpdir()): string[] {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base).filter((name) => SERVICE_DIR.test(name));
  } catch {
    return removed;
  }
  for (const name of entries) {
    const dir = join(base, name);
    try {
      if (existsSync(join(dir, KEEP_FILE))) continue;
      const ownerFile = join(dir, OWNER_FILE);
      if (existsSync(ownerFile)) {
        const owner = Number(readFileSync(ownerFile, 'utf8'));
        if (Number.isInteger(owner) && owner > 0 && isPidAlive(owner)) continue;
      } else if (Date.now() - statSync(dir).mtimeMs < 10 * 60_000) {
        continue; // being created right now, or not ours
      }
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // raced with its owner or another sweeper
    }
  }
  return removed;
}

export interface ServiceDir {
  path: string;
  /** Delete the directory now (no-op when it is kept). */
  remove(): void;
}

/**
 * A fresh temp dir for one service instance, e.g. /tmp/tickflow-pg-XXXXXX, recorded as owned by
 * this process: removed by remove(), at process exit, or by the next sweep after a crash; unless
 * `keep` is set (then it stays for inspection).
 */
export function createServiceDir(kind: string, keep = false): ServiceDir {
  if (!swept) {
    swept = true;
    sweepStaleServiceDirs();
  }
  const path = mkdtempSync(join(tmpdir(), `tickflow-${kind}-`));
  writeFileSync(join(path, OWNER_FILE), String(process.pid));
  if (keep) {
    writeFileSync(join(path, KEEP_FILE), '');
    return { path, remove: () => {} };
  }
  const unregister = removeOnExit(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      unregister();
    },
  };
}

/** Pids of the service children this process currently owns (for diagnostics and tests). */
export function liveServicePids(): number[] {
  return [...live].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

/** True when a process with this pid exists and is not a zombie. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

// ---- helpers --------------------------------------------------------------------------------

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Wrap a command with setpriv for death-signal and user switching when available. */
export function wrapCommand(
  command: string,
  args: readonly string[],
  runAs?: string,
): { command: string; args: string[] } {
  const switchUser = runAs !== undefined && isRoot();
  if (!existsSync(SETPRIV)) {
    if (switchUser) throw new Error(`running as '${runAs}' needs ${SETPRIV} (util-linux)`);
    return { command, args: [...args] };
  }
  const prefix = switchUser ? [`--reuid=${runAs}`, `--regid=${runAs}`, '--init-groups'] : [];
  return { command: SETPRIV, args: [...prefix, '--pdeathsig', 'KILL', '--', command, ...args] };
}

/** Last `lines` lines of a file (reads at most the last 64 KiB). */
export function tailFile(path: string, lines = 40): string {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      const length = Math.min(size, 65536);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      return buf
        .toString('utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n')
        .trimEnd();
    } finally {
      closeSync(fd);
    }
  } catch {
    return `(no log at ${path})`;
  }
}

// ---- start/stop -----------------------------------------------------------------------------

export async function startService(spec: ServiceSpec): Promise<ServiceProcess> {
  installExitHook();
  const wrapped = wrapCommand(spec.command, spec.args, spec.runAs);
  const logFd = openSync(spec.logFile, 'a');
  writeSync(logFd, `# ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(wrapped.command, wrapped.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', logFd, logFd],
      // Own process group: a terminal's Ctrl-C must reach only the owner (e.g. `tickflow up`), which
      // drains the pipeline before it stops the services in order.
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
  const spawnError = new Promise<Error>((resolveError) => child.once('error', resolveError));
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolveExit(exitInfo);
    });
    // 'exit' is not emitted when spawn itself fails
    void spawnError.then(() => {
      exitInfo ??= { code: null, signal: null };
      live.delete(child);
      resolveExit(exitInfo);
    });
  });
  live.add(child);

  const logFiles = [spec.logFile, ...(spec.extraLogFiles ?? [])];
  const logTail = (lines = 40): string =>
    logFiles
      .filter((f) => existsSync(f))
      .map((f) => `[${f}]\n${tailFile(f, lines)}`)
      .join('\n');

  let stopping: Promise<ExitInfo> | undefined;
  const stop = (): Promise<ExitInfo> => {
    stopping ??= (async () => {
      if (exitInfo !== undefined) return exitInfo;
      try {
        child.kill(spec.stopSignal ?? 'SIGTERM');
      } catch {
        // already gone
      }
      const grace = spec.stopGraceMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout('timeout'), grace);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer); // a pending timer would keep the caller's event loop alive
      if (first !== 'timeout') return first;
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      return exited;
    })();
    return stopping;
  };

  const service: ServiceProcess = {
    name: spec.name,
    pid: child.pid ?? -1,
    logFile: spec.logFile,
    exited,
    isRunning: () => exitInfo === undefined,
    stop,
    logTail,
  };

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000);
  const interval = spec.pollIntervalMs ?? 100;
  for (;;) {
    const failure = await Promise.race([spawnError, sleep(0, undefined)]);
    if (failure !== undefined) {
      throw new ServiceStartError(
        spec.name,
        `could not spawn ${spec.command}: ${failure.message}`,
        logTail(),
      );
    }
    if (exitInfo !== undefined) {
      throw new ServiceStartError(
        spec.name,
        `process exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal})`,
        logTail(),
      );
    }
    let ready = false;
    try {
      ready = await spec.ready();
    } catch {
      ready = false;
    }
    if (ready && exitInfo === undefined) return service;
    if (Date.now() > deadline) {
      await stop();
      throw new ServiceStartError(
        spec.name,
        `not ready after ${spec.readyTimeoutMs ?? 60_000} ms (process killed)`,
        logTail(),
      );
    }
    await sleep(interval);
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  runAs?: string;
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a short-lived command to completion; the error carries its output. Also orphan-safe. */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const wrapped = wrapCommand(command, args, opts.runAs);
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      wrapped.command,
      wrapped.args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const out = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
          reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${out}`));
        } else {
          resolveRun({ stdout, stderr });
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Copies a freshly built directory to `target` in the cache atomically: a staging copy renamed into
 * place, so a concurrent builder either wins the rename or finds a complete `target` (one that has
 * `marker`), never a half-copied one.
 */
export async function publishDirectory(source: string, target: string, marker: string): Promise<void> {
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  await runCommand('cp', ['-a', source, staging]);
  try {
    renameSync(staging, target);
  } catch (error) {
    // another process won the race: theirs is as good as ours
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, marker))) throw error;
  }
}
