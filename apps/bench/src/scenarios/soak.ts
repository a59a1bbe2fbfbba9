import type { JsonLine } from '../child.ts';
import { type BenchContext, sleep } from '../context.ts';
import { sampleProcess } from '../procstat.ts';
import { LATENCY_PRODUCER_FLAGS } from '../producer-flags.ts';
import type { Latency, ScenarioResult } from '../result.ts';
import { growth, mean } from '../stats.ts';
import { waitForLine } from './throughput.ts';

type Stats = JsonLine & { rate: number; e2e: Latency };

/** Fixed 20k msg/s for `minutes`; aggregator RSS and latency every 10 s must stay flat. */
export async function soak(ctx: BenchContext, minutes: number, rate = 20_000): Promise<ScenarioResult> {
  ctx.log(`soak: ${rate} msg/s for ${minutes} min`);
  const run = await ctx.freshRun('soak');
  const t0 = performance.now();
  const agg = ctx.start('aggregator', ['aggregate'], run, t0, ctx.plan.aggregatorNodeArgs);
  await waitForLine(agg, 'partitions assigned', 60_000);
  const producer = ctx.start(
    'producer',
    ['produce', '--rate', String(rate), '--duration', `${minutes * 60}s`, ...LATENCY_PRODUCER_FLAGS],
    run,
    t0,
  );
  const samples: Array<{ t: number; rssMiB: number; p99Ms: number; storedPerSec: number }> = [];
  const endAt = performance.now() + minutes * 60_000;
  while (performance.now() < endAt && producer.child.exitCode === null) {
    await sleep(10_000);
    const t = (performance.now() - t0) / 1000;
    const recent = (agg.ofKind('stats') as Stats[]).filter((s) => s.t > t - 10);
    samples.push({
      t,
      rssMiB: (sampleProcess(agg.pid)?.rssBytes ?? 0) / 1_048_576,
      p99Ms: Math.max(0, ...recent.map((s) => s.e2e.p99)),
      storedPerSec: mean(recent.map((s) => s.rate)),
    });
    const last = samples.at(-1);
    if (last)
      ctx.log(
        `  t=${t.toFixed(0)} s rss ${last.rssMiB.toFixed(0)} MiB p99 ${last.p99Ms.toFixed(2)} ms stored ${last.storedPerSec.toFixed(0)}/s`,
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
