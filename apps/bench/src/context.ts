import { randomUUID } from 'node:crypto';
import { isolatePipeline, type Stack } from '@tickflow/stack';
import { BenchChild, type JsonLine } from './child.ts';
import { type ProcSample, sampleProcess } from './procstat.ts';
import type { TracingLevel } from './tracing-levels.ts';

export interface BenchPlan {
  quick: boolean;
  warmupS: number;
  steadyS: number;
  rates: number[];
  kafkaRecords: number;
  partitions: number;
  soakMinutes: number;
  tracingLevels: TracingLevel[];
  /** Extra node flags for the aggregator, e.g. --cpu-prof. */
  aggregatorNodeArgs: string[];
}

export interface RunEnv {
  env: Record<string, string>;
  topic: string;
}

/** Shared services plus helpers to give every scenario fresh topics, consumer group and database. */
export class BenchContext {
  readonly stack: Stack;
  readonly plan: BenchPlan;
  readonly log: (msg: string) => void;

  constructor(stack: Stack, plan: BenchPlan, log: (msg: string) => void) {
    this.stack = stack;
    this.plan = plan;
    this.log = log;
  }

  get brokers(): string {
    return this.stack.kafka?.brokers as string;
  }

  /** Drops the previous run's database; set once a run is isolated. */
  #dropPrevious: (() => Promise<void>) | undefined;

  async freshRun(label: string): Promise<RunEnv> {
    await this.#settleDatabase();
    const id = `${label}-${randomUUID().slice(0, 6)}`;
    const services = {
      brokers: this.brokers,
      redisUrl: this.stack.redis?.url as string,
      databaseUrl: this.stack.database.url,
    };
    const names = {
      topics: {
        raw: `bench-raw-${id}`,
        bars: `bench-bars-${id}`,
        alerts: `bench-alerts-${id}`,
        dlq: `bench-dlq-${id}`,
      },
      group: `bench-${id}`,
      redisPrefix: `bench:${id}:`,
      database: `bench_${id.replaceAll('-', '_')}`,
    };
    // The broker stamps each record as it appends it, so the aggregator splits ingest -> polled into
    // producer -> broker and broker -> aggregator without a delivery report per record.
    const run = await isolatePipeline(services, names, this.plan.partitions, {
      rawTopicConfig: { 'message.timestamp.type': 'LogAppendTime' },
    });
    this.#dropPrevious = run.drop;
    return { topic: run.topics.raw, env: run.env };
  }

  /**
   * Every run starts on a quiet database: the previous run's database is dropped and a checkpoint
   * writes out what else is dirty, instead of that write-back landing in the next measured window
   * (a max-rate run leaves millions of rows behind). Best effort: a failure only costs isolation.
   */
  async #settleDatabase(): Promise<void> {
    const drop = this.#dropPrevious;
    this.#dropPrevious = undefined;
    try {
      await drop?.();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: this.stack.database.url });
      await client.connect();
      try {
        await client.query('CHECKPOINT');
      } finally {
        await client.end();
      }
    } catch (err) {
      this.log(`  note: could not settle the database between runs: ${(err as Error).message}`);
    }
  }

  start(
    name: string,
    args: string[],
    run: RunEnv,
    t0: number,
    nodeArgs: string[] = [],
    niceness = 0,
  ): BenchChild {
    return new BenchChild(name, args, run.env, t0, nodeArgs, niceness);
  }

  /** Samples of the long-running services and the given children, for CPU and memory figures. */
  sampleAll(children: BenchChild[]): Record<string, ProcSample | undefined> {
    const out: Record<string, ProcSample | undefined> = {};
    for (const c of children) out[c.name] = sampleProcess(c.pid);
    if (this.stack.kafka) out.kafka = sampleProcess(this.stack.kafka.pid);
    if (this.stack.postgres) out.postgres = sampleProcess(this.stack.postgres.pid, true);
    if (this.stack.redis) out.redis = sampleProcess(this.stack.redis.pid);
    return out;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until the aggregator's latest stats line reports no lag and `stored` reached `target`. */
export async function waitDrained(agg: BenchChild, target: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const last = agg.ofKind('stats').at(-1) as (JsonLine & { stored?: number; lag?: number }) | undefined;
    if (last && (last.stored ?? 0) >= target && (last.lag ?? 1) === 0) return true;
    if (agg.child.exitCode !== null) return false;
    await sleep(200);
  }
  return false;
}
