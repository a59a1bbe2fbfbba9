import type { BenchChild, JsonLine } from '../child.ts';
import { type BenchContext, sleep } from '../context.ts';
import type { ProcSample } from '../procstat.ts';
import { MAX_RATE_PRODUCER_FLAGS, MAX_RATE_PRODUCER_NICE } from '../producer-flags.ts';
import type { Latency, ScenarioResult } from '../result.ts';
import { cpuShare, type RateSample, sustainedRate } from '../stats.ts';

type Stats = JsonLine & { rate: number; e2e: Latency; stored: number };

export interface ThroughputRun {
  storedPerSec: number;
  producedPerSec: number;
  endToEnd: Latency;
  processes: Record<string, { cpuCores: number; peakRssMiB: number }>;
}

/**
 * Producer at --rate max against `aggregators` aggregator processes; the sustained stored rate
 * is measured over a steady window after the warm-up.
 */
export async function runAtMaxRate(
  ctx: BenchContext,
  label: string,
  aggregators: number,
): Promise<ThroughputRun> {
  const { warmupS, steadyS } = ctx.plan;
  const run = await ctx.freshRun(label);
  const t0 = performance.now();
  const aggs: BenchChild[] = [];
  for (let i = 0; i < aggregators; i++) {
    aggs.push(
      ctx.start(
        aggregators > 1 ? `aggregator-${i + 1}` : 'aggregator',
        ['aggregate'],
        run,
        t0,
        ctx.plan.aggregatorNodeArgs,
      ),
    );
  }
  await Promise.all(aggs.map((a) => waitForLine(a, 'partitions assigned', 60_000)));
  const producer = ctx.start(
    'producer',
    ['produce', '--rate', 'max', '--duration', `${warmupS + steadyS + 2}s`, ...MAX_RATE_PRODUCER_FLAGS],
    run,
    t0,
    [],
    MAX_RATE_PRODUCER_NICE,
  );
  const started = (performance.now() - t0) / 1000;
  await sleep(warmupS * 1000);
  const before = ctx.sampleAll([producer, ...aggs]);
  const from = (performance.now() - t0) / 1000;
  await sleep(steadyS * 1000);
  const to = (performance.now() - t0) / 1000;
  const after = ctx.sampleAll([producer, ...aggs]);
  await producer.exited;
  for (const a of aggs) await a.stop();

  let stored = 0;
  for (const a of aggs) {
    const samples: RateSample[] = (a.ofKind('stats') as Stats[]).map((s) => ({ t: s.t, rate: s.rate }));
    stored += sustainedRate(samples, from, to, 1);
  }
  const summary = producer.ofKind('summary')[0] as
    | (JsonLine & { acked: number; elapsedMs: number })
    | undefined;
  const producedPerSec = summary ? summary.acked / (summary.elapsedMs / 1000) : 0;
  const aggSummary = aggs[0]?.ofKind('summary')[0] as (JsonLine & { e2e: Latency }) | undefined;
  ctx.log(
    `  ${label}: ${Math.round(stored)} msg/s stored, ${Math.round(producedPerSec)} msg/s produced (window ${from.toFixed(0)}-${to.toFixed(0)} s after start at ${started.toFixed(0)} s)`,
  );
  return {
    storedPerSec: stored,
    producedPerSec,
    endToEnd: aggSummary?.e2e ?? { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    processes: usage(before, after, to - from),
  };
}

/** CPU cores used by each process between two samples, and its peak RSS. */
export function usage(
  before: Record<string, ProcSample | undefined>,
  after: Record<string, ProcSample | undefined>,
  seconds: number,
): Record<string, { cpuCores: number; peakRssMiB: number }> {
  const out: Record<string, { cpuCores: number; peakRssMiB: number }> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name];
    if (!a || !b) continue;
    out[name] = {
      cpuCores: cpuShare(b.cpuSeconds, a.cpuSeconds, seconds),
      peakRssMiB: a.peakRssBytes / 1_048_576,
    };
  }
  return out;
}

export async function waitForLine(child: BenchChild, text: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!child.lines.some((l) => l.msg.includes(text))) {
    if (child.child.exitCode !== null)
      throw new Error(`${child.name} exited early: ${child.errors().join('; ')}`);
    if (performance.now() > deadline) throw new Error(`${child.name}: no '${text}' within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function maxThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  ctx.log('max throughput: producer at --rate max, one aggregator');
  const r = await runAtMaxRate(ctx, 'max', 1);
  return { name: 'max-throughput', steadySeconds: ctx.plan.steadyS, ...r };
}

export async function scaleOut(ctx: BenchContext, one: number): Promise<ScenarioResult> {
  ctx.log('scale-out: two aggregators in one consumer group at --rate max');
  const two = await runAtMaxRate(ctx, 'scale2', 2);
  return {
    name: 'scale-out',
    oneAggregatorPerSec: one,
    twoAggregatorsPerSec: two.storedPerSec,
    speedup: one > 0 ? two.storedPerSec / one : null,
  };
}
