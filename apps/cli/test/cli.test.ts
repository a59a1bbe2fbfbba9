import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../bin/tickflow.js', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

describe('tickflow CLI', () => {
  it('lists the contract subcommands', () => {
    const out = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const c of ['produce', 'aggregate', 'operator', 'dashboard', 'migrate', 'up', 'bench'])
      expect(out).toContain(c);
  });

  it.each(['produce', 'aggregate', 'migrate', 'up', 'bench', 'operator', 'dashboard'])(
    '%s --help exits 0',
    (cmd) => {
      const r = run([cmd, '--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    },
  );

  it('rejects bad configuration with a message naming the variable, before connecting to anything', () => {
    const r = run(['aggregate'], { KAFKA_BROKERS: 'not a broker list', REDIS_URL: 'http://x' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('environment variable KAFKA_BROKERS');
    expect(r.stderr).toContain('environment variable REDIS_URL');
    const p = run(['produce', '--rate', 'fast', '--source', 'replay']);
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('flag --rate');
    const q = run(['produce', '--source', 'replay']);
    expect(q.status).toBe(2);
    expect(q.stderr).toContain('--source replay needs --file');
  });

  it('fails clearly on an unknown command', () => {
    const r = run(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
