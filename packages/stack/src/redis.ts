import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort, LOOPBACK } from './ports.ts';
import { createServiceDir, retryOnPortClash, runCommand, startService } from './process.ts';

export interface RedisOptions {
  /** Default: a free port. */
  port?: number;
  /** Enable RDB snapshots and the AOF (default false: nothing is written to disk). */
  persistence?: boolean;
  /** Extra config directives, e.g. `{ maxmemory: '256mb' }` (passed as --name value). */
  config?: Record<string, string | number>;
  /** redis-server binary (default: `redis-server` on PATH). */
  binary?: string;
  readyTimeoutMs?: number;
}

export interface RedisInstance {
  /** redis://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  /** e.g. '7.0.15' */
  version: string;
  dir: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

let cachedVersion: string | undefined;

export async function redisVersion(binary = 'redis-server'): Promise<string> {
  if (cachedVersion !== undefined) return cachedVersion;
  const { stdout } = await runCommand(binary, ['--version']);
  cachedVersion = /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  return cachedVersion;
}

/** Sends a RESP PING and resolves true on +PONG (false on anything else, e.g. -LOADING). */
export function redisPing(port: number, host: string = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host, port });
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}

export function startRedis(opts: RedisOptions = {}): Promise<RedisInstance> {
  return opts.port !== undefined ? startRedisOnce(opts) : retryOnPortClash(() => startRedisOnce(opts));
}

async function startRedisOnce(opts: RedisOptions): Promise<RedisInstance> {
  const binary = opts.binary ?? 'redis-server';
  const [port, version] = await Promise.all([
    opts.port !== undefined ? Promise.resolve(opts.port) : freePort(),
    redisVersion(binary),
  ]);
  const serviceDir = createServiceDir('redis');
  const dir = serviceDir.path;
  const logFile = join(dir, 'redis.log');
  const config: Record<string, string | number> = {
    port,
    bind: LOOPBACK,
    'protected-mode': 'yes',
    daemonize: 'no',
    dir,
    logfile: '', // stdout, which goes to logFile
    save: opts.persistence ? '3600 1 300 100 60 10000' : '',
    appendonly: opts.persistence ? 'yes' : 'no',
    ...opts.config,
  };
  const args: string[] = [];
  for (const [name, value] of Object.entries(config)) args.push(`--${name}`, String(value));
  try {
    const server = await startService({
      name: 'redis',
      command: binary,
      args,
      cwd: dir,
      logFile,
      stopSignal: 'SIGTERM',
      stopGraceMs: 10_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      pollIntervalMs: 25,
      ready: () => redisPing(port),
    });
    return {
      url: `redis://${LOOPBACK}:${port}`,
      host: LOOPBACK,
      port,
      version,
      dir,
      logFile,
      pid: server.pid,
      stop: async () => {
        await server.stop();
        serviceDir.remove();
      },
    };
  } catch (error) {
    serviceDir.remove();
    throw error;
  }
}
