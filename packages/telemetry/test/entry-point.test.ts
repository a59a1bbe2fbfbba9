import { ConfigError } from '@tickflow/config';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runEntryPoint } from '../src/entry-point.ts';

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    stdout += String(c);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    stderr += String(c);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Removes the SIGINT/SIGTERM handlers a service's onShutdown added during `body`. */
async function withoutNewSignalHandlers(body: () => Promise<void>): Promise<void> {
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  try {
    await body();
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.off(sig, l);
  }
}

const failing = () => {
  throw new ConfigError(['flag --rate = "fast": must be a number']);
};

describe('runEntryPoint', () => {
  it('prints the help for --help or -h (one final newline) and exits 0 without loading the configuration', async () => {
    const load = vi.fn(failing);
    const run = vi.fn(async () => 0);
    expect(
      await runEntryPoint(['--rate', '1', '--help'], { command: 'x', help: 'Usage: x', load, run }),
    ).toBe(0);
    expect(await runEntryPoint(['-h'], { command: 'x', help: 'Usage: x\n', load, run })).toBe(0);
    expect(stdout).toBe('Usage: x\nUsage: x\n');
    expect(load).not.toHaveBeenCalled();
    expect(run).not.toHaveBeenCalled();
  });

  it('prints a configuration error under the command name and exits 2 before running', async () => {
    const run = vi.fn(async () => 0);
    expect(await runEntryPoint([], { command: 'produce', help: '', load: failing, run })).toBe(2);
    expect(stderr).toBe(
      'tickflow produce: invalid configuration:\n  - flag --rate = "fast": must be a number\n',
    );
    expect(run).not.toHaveBeenCalled();
  });

  it('validates the OTEL_* variables of a traced service with the configuration', async () => {
    vi.stubEnv('OTEL_TRACES_SAMPLER', 'nope');
    const run = vi.fn(async () => 0);
    const ep = { command: 'aggregate', help: '', load: () => ({}), component: 'agg', run };
    expect(await runEntryPoint([], { ...ep, tracing: { serviceName: 'tickflow-aggregator' } })).toBe(2);
    expect(stderr).toMatch(/^tickflow aggregate: OTEL_TRACES_SAMPLER: 'nope' is not one of/);
    expect(run).not.toHaveBeenCalled();
  });

  it('passes the configuration to a command, returns its exit code and lets its failures through', async () => {
    const run = vi.fn(async (cfg: { n: number }) => cfg.n);
    expect(await runEntryPoint(['--n'], { command: 'x', help: '', load: () => ({ n: 3 }), run })).toBe(3);
    const boom = async () => {
      throw new Error('boom');
    };
    await expect(runEntryPoint([], { command: 'x', help: '', load: () => ({}), run: boom })).rejects.toThrow(
      'boom',
    );
  });

  it('gives a service a logger and a shutdown signal, and logs its failure with exit code 1', async () => {
    await withoutNewSignalHandlers(async () => {
      let seen: AbortSignal | undefined;
      const ok = await runEntryPoint([], {
        command: 'x',
        help: '',
        load: () => ({}),
        component: 'svc',
        run: async (_cfg, { log, signal }) => {
          seen = signal;
          log.info('started');
          return 0;
        },
      });
      expect(ok).toBe(0);
      expect(seen?.aborted).toBe(false);
      const failed = await runEntryPoint([], {
        command: 'x',
        help: '',
        load: () => ({}),
        component: 'svc',
        run: async () => {
          throw new Error('cannot reach Kafka');
        },
      });
      expect(failed).toBe(1);
      expect(stderr).toMatch(/info {2}\[svc\] started\n.*error \[svc\] cannot reach Kafka\n$/s);
    });
  });

  it('starts tracing (here: disabled) for a traced service and hands it to run', async () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true');
    await withoutNewSignalHandlers(async () => {
      const code = await runEntryPoint([], {
        command: 'x',
        help: '',
        load: () => ({}),
        component: 'svc',
        tracing: { serviceName: 'tickflow-test' },
        run: async (_cfg, { tracing }) => (tracing.config.serviceName === 'tickflow-test' ? 0 : 1),
      });
      expect(code).toBe(0);
    });
  });
});
