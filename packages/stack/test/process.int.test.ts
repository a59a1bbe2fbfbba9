import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isPidAlive, ServiceStartError, startService } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tickflow-stack-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

describe('startService', () => {
  it('fails with the tail of the log when the service exits before it is ready', async () => {
    const logFile = join(dir, 'early-exit.log');
    const error = await startService({
      name: 'broken',
      command: 'sh',
      args: ['-c', 'echo "fatal: config is wrong"; exit 3'],
      logFile,
      ready: async () => false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect(String((error as Error).message)).toContain('exited before it was ready (code 3');
    expect(String((error as Error).message)).toContain('fatal: config is wrong');
  });

  it('kills a service that is not ready in time, and says so', async () => {
    const logFile = join(dir, 'slow.log');
    const error = await startService({
      name: 'slow',
      command: 'sh',
      args: ['-c', 'echo starting; exec sleep 60'],
      logFile,
      readyTimeoutMs: 300,
      ready: async () => false,
    }).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/not ready after 300 ms[\s\S]*starting/);
  });

  it('stops with SIGTERM, then SIGKILL after the grace period', async () => {
    const logFile = join(dir, 'stubborn.log');
    const service = await startService({
      name: 'stubborn',
      command: 'sh',
      // the marker is computed so that the command line (logged first) does not contain it
      args: ['-c', 'trap \'\' TERM; echo "ignoring-$((20 + 22))"; while true; do sleep 0.1; done'],
      logFile,
      stopGraceMs: 300,
      ready: async () => readFileSync(logFile, 'utf8').includes('ignoring-42'),
    });
    expect(isPidAlive(service.pid)).toBe(true);
    const exit = await service.stop();
    expect(exit.signal).toBe('SIGKILL');
    expect(isPidAlive(service.pid)).toBe(false);
    expect(await service.stop()).toEqual(exit); // idempotent
  });

  it.each(['exit', 'SIGKILL'] as const)('leaves no orphan when the parent ends (%s)', async (how) => {
    const pidFile = join(dir, `orphan-${how}.pid`);
    const script = join(dir, `parent-${how}.ts`);
    const processModule = new URL('../src/process.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';
import { startService } from ${JSON.stringify(processModule)};
const s = await startService({ name: 'child', command: 'sleep', args: ['300'], logFile: ${JSON.stringify(join(dir, `orphan-${how}.log`))}, ready: async () => true });
writeFileSync(${JSON.stringify(pidFile)}, String(s.pid));
${how === 'exit' ? 'process.exit(0);' : "process.kill(process.pid, 'SIGKILL');"}
`,
    );
    const parent = spawn(process.execPath, [script], { stdio: 'ignore' });
    await new Promise((resolveExit) => parent.once('exit', resolveExit));
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(childPid).toBeGreaterThan(0);
    expect(await waitUntil(() => !isPidAlive(childPid))).toBe(true);
  });
});
