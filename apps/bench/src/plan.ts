import { resolve } from 'node:path';
import { AGGREGATOR_V8_FLAGS } from '@tickflow/aggregator/node-options';
import type { BenchConfig } from './config.ts';
import type { BenchPlan } from './context.ts';
import { parseTracingLevels } from './tracing-levels.ts';

/**
 * Seconds each scenario runs before measuring. A freshly started aggregator and producer on a new topic
 * and database are slow for their first ~10-13 s (measured at 20k msg/s: per-second end-to-end means
 * of 9-68 ms, then 3-6 ms with occasional spikes), most likely JIT tier-up in the Node processes and
 * the broker and first writes to the new topic and database; 10 s of warm-up left part of that in.
 */
export const DEFAULT_WARMUP_S = 20;

export function planFor(cfg: BenchConfig): BenchPlan {
  return {
    quick: cfg.quick,
    warmupS: cfg.warmupS || (cfg.quick ? 3 : DEFAULT_WARMUP_S),
    steadyS: cfg.steadyS || (cfg.quick ? 8 : 60),
    rates: cfg.rates ?? (cfg.quick ? [5000, 20000] : [5000, 20000, 50000]),
    kafkaRecords: cfg.quick ? 300_000 : 5_000_000,
    partitions: cfg.partitions,
    soakMinutes: cfg.soakMinutes,
    tracingLevels: cfg.tracing ?? parseTracingLevels('off,1%,100%'),
    aggregatorNodeArgs: [
      ...(cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve('bench/profiles')}`] : []),
      // what the aggregator runs with everywhere else; --aggregator-node-args come later and win
      ...AGGREGATOR_V8_FLAGS,
      ...(cfg.aggregatorNodeArgs ?? []),
    ],
  };
}
