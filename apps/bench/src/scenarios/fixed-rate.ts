import type { JsonLine } from '../child.ts';
import { type BenchContext, sleep, waitDrained } from '../context.ts';
import { latencyLine } from '../markdown.ts';
import { startPressureWindow } from '../pressure.ts';
import { LATENCY_PRODUCER_FLAGS } from '../producer-flags.ts';
import { EMPTY_LATENCY as EMPTY, type Latency, type ScenarioResult } from '../result.ts';
import { type RateSample, sustainedRate } from '../stats.ts';
import { usage, waitForLine } from './throughput.ts';

/** The end-of-run line of a fixed-rate producer. */
export type FixedRateProducerSummary = JsonLine & { acked: number; elapsedMs: number };

/**
 * The producer at a fixed rate; latency percentiles come from the aggregator's HDR histograms over
 * the run after the warm-up (--latency-warmup), split by stage.
 */
export async function fixedRate(
  ctx: BenchContext,
  rate: number,
  variant: { label: string; env: Record<string, string>; producerFlags?: readonly string[] } = {
    label: `rate${rate}`,
    env: {},
  },
): Promise<ScenarioResult> {
  const { warmupS, steadyS } = ctx.plan;
  ctx.log(
    `latency at ${rate} msg/s for ${steadyS} s (+${warmupS} s warm-up)${Object.keys(variant.env).length > 0 ? ` [${variant.label}]` : ''}`,
  );
  const fresh = await ctx.freshRun(variant.label);
  // Extra variables (e.g. OTEL_* for the tracing scenario) for both processes.
  const run = { ...fresh, env: { ...fresh.env, ...variant.env } };
  const t0 = performance.now();
  const agg = ctx.start(
    'aggregator',
    ['aggregate', '--latency-warmup', `${warmupS}s`],
    run,
    t0,
    ctx.plan.aggregatorNodeArgs,
  );
  await waitForLine(agg, 'partitions assigned', 60_000);
  const producer = ctx.start(
    'producer',
    [
      'produce',
      '--rate',
      String(rate),
      '--duration',
      `${warmupS + steadyS}s`,
      ...(variant.producerFlags ?? LATENCY_PRODUCER_FLAGS),
    ],
    run,
    t0,
  );
  const from = (performance.now() - t0) / 1000 + warmupS;
  // CPU over the steady window, sampled while the producer still runs (an exited process has no /proc).
  await sleep(warmupS * 1000);
  const before = ctx.sampleAll([producer, agg]);
  const endPressure = startPressureWindow();
  const cpuFrom = performance.now();
  await sleep(Math.max(1, steadyS - 1) * 1000);
  const processes = usage(before, ctx.sampleAll([producer, agg]), (performance.now() - cpuFrom) / 1000);
  const cpuPressurePct = endPressure();
  await producer.exited;
  const to = (performance.now() - t0) / 1000;
  const summary = producer.ofKind('summary')[0] as FixedRateProducerSummary | undefined;
  const acked = summary?.acked ?? 0;
  const drained = await waitDrained(agg, acked, 120_000);
  if (!drained) ctx.log(`  warning: the aggregator did not drain ${acked} messages in time`);
  await agg.stop();
  const samples: RateSample[] = agg
    .ofKind('stats')
    .map((s) => ({ t: s.t, rate: (s as JsonLine & { rate: number }).rate }));
  const agSum = agg.ofKind('summary')[0] as
    | (JsonLine & {
        e2e: Latency;
        toRecordTime: Latency;
        fromRecordTime: Latency;
        processing: Latency;
        sinkWrite: Latency;
      })
    | undefined;
  const result: ScenarioResult = {
    name: 'fixed-rate',
    requestedPerSec: rate,
    producedPerSec: summary ? acked / (summary.elapsedMs / 1000) : 0,
    storedPerSec: sustainedRate(samples, from, to, 1),
    endToEnd: agSum?.e2e ?? EMPTY,
    split: {
      // The bench's topics are LogAppendTime: the record timestamp is the broker's append time.
      producerToBroker: agSum?.toRecordTime ?? EMPTY,
      brokerToAggregator: agSum?.fromRecordTime ?? EMPTY,
      processing: agSum?.processing ?? EMPTY,
      sinkWrite: agSum?.sinkWrite ?? EMPTY,
    },
    processes,
    ...(cpuPressurePct === undefined ? {} : { cpuPressurePct }),
  };
  // Per stats interval, so a mean pulled up by a few stalls is told apart from a uniformly slow run.
  const intervals = (
    agg.ofKind('stats') as Array<JsonLine & { e2e: Latency; toConsumer: Latency; sinkWrite: Latency }>
  )
    .filter((s) => s.t >= from && s.t <= to + 1 && s.e2e.count > 0)
    .map(
      (s) =>
        `${s.e2e.mean.toFixed(1)}/${s.e2e.p99.toFixed(0)}(${s.toConsumer.mean.toFixed(1)},${s.sinkWrite.mean.toFixed(1)})`,
    );
  ctx.log(
    `  per stats interval, ms: e2e mean/p99 (ingest -> polled mean, sink writes mean): ${intervals.join(' ')}`,
  );
  ctx.log(`  e2e ${latencyLine(result.endToEnd)}`);
  return result;
}
