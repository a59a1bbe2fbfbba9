import { fields, helpText, loadConfig } from '@tickflow/config';
import { z } from 'zod';
import { parseTracingLevels } from './tracing-levels.ts';

const rates = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const list = v.split(',').map((s) => Number(s.trim()));
    if (list.some((n) => !Number.isFinite(n) || n <= 0)) {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of positive rates' });
      return z.NEVER;
    }
    return list;
  });

const SCENARIOS = ['max', 'latency', 'floor', 'kafka', 'scale', 'tracing'] as const;

export const benchConfigSpec = {
  quick: {
    flag: 'quick',
    boolean: true,
    schema: fields.boolean(false),
    help: 'every scenario briefly (smoke check, under ~2 min)',
  },
  soakMinutes: {
    flag: 'soak',
    schema: fields.integer(0, 0, 24 * 60),
    help: 'also run the soak scenario for this many minutes',
  },
  scenarios: {
    flag: 'scenarios',
    schema: fields
      .list([...SCENARIOS])
      .refine((l) => l.every((s) => (SCENARIOS as readonly string[]).includes(s)), {
        message: `scenarios are ${SCENARIOS.join(', ')}`,
      }),
    help: 'which scenarios to run',
  },
  warmupS: {
    flag: 'warmup',
    schema: fields.integer(0, 0, 600),
    help: 'warm-up seconds before measuring (default 20; quick 3)',
  },
  steadyS: {
    flag: 'steady',
    schema: fields.integer(0, 0, 3600),
    help: 'measured seconds per scenario (default 60; quick 8)',
  },
  rates: {
    flag: 'rates',
    schema: rates,
    help: 'fixed rates for the latency scenario (default 5000,20000,50000; quick 5000,20000)',
  },
  partitions: {
    flag: 'partitions',
    // librdkafka sends one produce request per partition: on one 2-core broker, 2 partitions (enough
    // for the two-aggregator run) cost the broker 0.26 instead of 0.37 cores at 20k msg/s.
    schema: fields.integer(2, 1, 1000),
    help: 'partitions of the trades topic (default 2: one per aggregator of the scale-out run)',
  },
  tracing: {
    flag: 'tracing',
    schema: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        try {
          return parseTracingLevels(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    help: "tracing levels of the tracing scenario: 'off', percentages or ratios (default off,1%,100%)",
  },
  out: {
    env: 'BENCH_OUT',
    flag: 'out',
    schema: fields.string('bench/results'),
    help: 'directory for the JSON and Markdown results',
  },
  database: {
    flag: 'database',
    schema: fields.oneOf(['postgres', 'timescale'] as const, 'postgres'),
    help: 'database to run against',
  },
  cpuProf: {
    flag: 'cpu-prof',
    boolean: true,
    schema: fields.boolean(false),
    help: 'write V8 CPU profiles of the aggregator to bench/profiles',
  },
  aggregatorNodeArgs: {
    flag: 'aggregator-node-args',
    schema: z
      .string()
      .optional()
      .transform((v) => v?.split(/\s+/).filter((a) => a.length > 0))
      .refine((l) => l === undefined || l.every((a) => a.startsWith('--')), {
        message: "must be Node/V8 flags separated by spaces, e.g. '--max-semi-space-size=16'",
      }),
    help: 'extra Node/V8 flags for the aggregator processes (e.g. GC settings to compare)',
  },
};

export type BenchConfig = ReturnType<typeof loadBenchConfig>;

export function loadBenchConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(benchConfigSpec, argv, env);
}

export const benchHelp = `Usage: tickflow bench [flags]

Provisions the local stack (as \`tickflow up\` does), runs the scenarios one after another on fresh
topics and databases, and writes a JSON result and a Markdown table to the output directory:
  max      producer at --rate max, one aggregator: sustained stored msg/s, CPU and RSS per process
  latency  fixed rates: end-to-end p50/p90/p99/p99.9/max and the per-stage split
  floor    the 20k msg/s producer into a bare consumer with no sinks: the transport's own latency;
           then durable writes of the batch size it polled, one at a time: the commit's own latency
  kafka    kafka-producer-perf-test and kafka-consumer-perf-test on the same broker; Tickflow's share
  scale    two aggregators in one consumer group at max rate
  tracing  the 20k msg/s latency run with tracing off, at 1 % and at 100 % (--tracing), exporting
           OTLP/HTTP to a local endpoint that discards: throughput and latency for each
  --soak N adds a soak at 20k msg/s for N minutes (RSS and latency every 10 s).

Flags:
${helpText(benchConfigSpec)}`;
