import type { JsonLine } from '../child.ts';
import { type BenchContext, sleep } from '../context.ts';
import { sampleProcess } from '../procstat.ts';
import { LATENCY_PRODUCER_FLAGS } from '../producer-flags.ts';
import type { Latency, ScenarioResult, SoakResult } from '../result.ts';
import { growth } from '../stats.ts';
import { waitForLine } from './throughput.ts';

type Stats = JsonLine & { rate: number; e2e: Latency };
type SoakSample = SoakResult['samples'][number];

/** Seconds per sample: RSS, and latency over the same window. */
const SAMPLE_S = 10;

/** Fixed 20k msg/s for `minutes`; aggregator RSS and latency every 10 s must stay flat. */
export async function soak(ctx: BenchContext, minutes: number, rate = 20_000): Promise<ScenarioResult> {
  ctx.log(`soak: ${rate} msg/s for ${minutes} min`);
  const run = await ctx.freshRun('soak');
  const t0 = performance.now();
  // One stats line per sample window, so each sample's p99 and mean cover exactly those 10 s.
  const soakRun = { ...run, env: { ...run.env, STATS_INTERVAL: `${SAMPLE_S}s` } };
  const agg = ctx.start('aggregator', ['aggregate'], soakRun, t0, ctx.plan.aggregatorNodeArgs);
  await waitForLine(agg, 'partitions assigned', 60_000);
  const producer = ctx.start(
    'producer',
    ['produce', '--rate', String(rate), '--duration', `${minutes * 60}s`, ...LATENCY_PRODUCER_FLAGS],
    run,
    t0,
  );
  const samples: SoakSample[] = [];
  const endAt = performance.now() + minutes * 60_000;
  let seen = agg.ofKind('stats').length;
  while (performance.now() < endAt && producer.child.exitCode === null) {
    await sleep(200);
    const stats = agg.ofKind('stats') as Stats[];
    if (stats.length === seen) continue;
    seen = stats.length;
    const last = stats[stats.length - 1] as Stats;
    const sample: SoakSample = {
      t: (performance.now() - t0) / 1000,
      rssMiB: (sampleProcess(agg.pid)?.rssBytes ?? 0) / 1_048_576,
      p99Ms: last.e2e.p99,
      meanMs: last.e2e.mean,
      storedPerSec: last.rate,
    };
    samples.push(sample);
    ctx.log(
      `  t=${sample.t.toFixed(0)} s rss ${sample.rssMiB.toFixed(0)} MiB e2e p99 ${sample.p99Ms.toFixed(2)} ms mean ${last.e2e.mean.toFixed(2)} ms stored ${sample.storedPerSec.toFixed(0)}/s`,
    );
  }
  await producer.exited;
  await agg.stop();
  const baseline = samples.find((s) => s.t >= 60)?.rssMiB ?? samples[0]?.rssMiB ?? 0;
  return {
    name: 'soak',
    requestedPerSec: rate,
    minutes,
    samples,
    rssGrowthAfterFirstMinute: growth(baseline, samples.at(-1)?.rssMiB ?? baseline),
  };
}
