import type { BenchContext } from '../context.ts';
import { startOtlpSink } from '../otlp-sink.ts';
import { TRACING_PRODUCER_FLAGS } from '../producer-flags.ts';
import type { ScenarioResult } from '../result.ts';
import { type TracingLevel, tracingEnv } from '../tracing-levels.ts';
import { fixedRate } from './fixed-rate.ts';

/**
 * The fixed-rate latency run once per tracing level (off, 1 %, 100 % by default), producer and
 * aggregator exporting over OTLP/HTTP to a local endpoint that discards: what tracing costs in
 * throughput and end-to-end latency.
 */
export async function tracingOverhead(
  ctx: BenchContext,
  levels: readonly TracingLevel[],
  rate = 20_000,
): Promise<ScenarioResult> {
  ctx.log(`tracing: latency at ${rate} msg/s with tracing ${levels.map((l) => l.label).join(', ')}`);
  const sink = await startOtlpSink();
  const runs = [];
  try {
    for (const level of levels) {
      const before = { requests: sink.requests, bytes: sink.bytes };
      // Topic and database names take [a-z0-9_-] only.
      const label = `trace-${level.label.replace(/[^a-z0-9]/gi, '')}`;
      const r = await fixedRate(ctx, rate, {
        label,
        env: tracingEnv(level, sink.endpoint),
        producerFlags: TRACING_PRODUCER_FLAGS,
      });
      if (r.name !== 'fixed-rate') throw new Error('unexpected scenario result');
      runs.push({
        level: level.label,
        ratio: level.ratio,
        producedPerSec: r.producedPerSec,
        storedPerSec: r.storedPerSec,
        endToEnd: r.endToEnd,
        exportRequests: sink.requests - before.requests,
        exportBytes: sink.bytes - before.bytes,
      });
    }
  } finally {
    await sink.close();
  }
  return { name: 'tracing', requestedPerSec: rate, runs };
}
