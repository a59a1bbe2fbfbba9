import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wrapCommand } from '@tickflow/stack';

const CLI = fileURLToPath(new URL('../../cli/bin/tickflow.js', import.meta.url));

export interface JsonLine {
  t: number;
  msg: string;
  kind?: string;
  [key: string]: unknown;
}

/** A pipeline process started for the bench, with its JSON log lines collected as they arrive. */
export class BenchChild {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: JsonLine[] = [];
  readonly exited: Promise<number | null>;
  #text = '';

  constructor(
    name: string,
    args: string[],
    env: Record<string, string>,
    t0: number,
    nodeArgs: string[] = [],
    /** > 0: run under nice(1), so every thread of the process starts at that priority (nice execs: same pid). */
    niceness = 0,
  ) {
    this.name = name;
    const argv = [...nodeArgs, CLI, ...args];
    // Through setpriv --pdeathsig (nice and node exec in turn, keeping it): a bench stopped by Ctrl-C
    // takes its producers and aggregators with it.
    const { command, args: wrapped } = wrapCommand(
      niceness > 0 ? 'nice' : process.execPath,
      niceness > 0 ? ['-n', String(niceness), process.execPath, ...argv] : argv,
    );
    this.child = spawn(command, wrapped, {
      env: { ...process.env, ...env, LOG_FORMAT: 'json', STATS_INTERVAL: env.STATS_INTERVAL ?? '1s' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => {
      this.#text += chunk.toString();
      let nl = this.#text.indexOf('\n');
      while (nl >= 0) {
        const line = this.#text.slice(0, nl);
        this.#text = this.#text.slice(nl + 1);
        nl = this.#text.indexOf('\n');
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as JsonLine;
          parsed.t = (performance.now() - t0) / 1000;
          this.lines.push(parsed);
        } catch {
          // Not one of ours (e.g. a librdkafka warning): ignore.
        }
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  ofKind(kind: string): JsonLine[] {
    return this.lines.filter((l) => l.kind === kind);
  }

  errors(): string[] {
    return this.lines.filter((l) => l.level === 'error').map((l) => l.msg);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}
