import { loadAggregatorConfig } from '@tickflow/aggregator';
import { decodeTrade } from '@tickflow/contracts';
import { BatchConsumer, OffsetCommitter, type PartitionOffset } from '@tickflow/kafka';
import { LatencyHistogram } from '@tickflow/telemetry';
import { type BenchContext, sleep } from '../context.ts';
import { latencyLine } from '../markdown.ts';
import { startPressureWindow } from '../pressure.ts';
import { LATENCY_PRODUCER_FLAGS } from '../producer-flags.ts';
import type { Latency, ScenarioResult } from '../result.ts';
import { measureCommitFloor } from './commit-floor.ts';
import type { FixedRateProducerSummary } from './fixed-rate.ts';
import { kafkaProducerLatency } from './kafka-producer-latency.ts';

/**
 * The latency floor of the transport alone: the bench's producer at a fixed rate, with the latency
 * runs' flags, into a fresh topic, and a bare consumer (same client, settings and poll loop as the
 * aggregator) that only decodes each trade and records ingest -> broker append and ingest -> polled.
 * No database, no Redis, no outputs: what remains of the end-to-end latency on this machine when the
 * sinks cost nothing. The consumer runs in the bench process, which is otherwise idle while a scenario
 * runs. Then, with the producer stopped, the database's share: durable writes of batches of the size this consumer polled.
 * Last, Kafka's own producer at the same rate (kafka-producer-latency.ts): the transport's share.
 */
export async function transportFloor(ctx: BenchContext, rate: number): Promise<ScenarioResult> {
  const { warmupS, steadyS } = ctx.plan;
  ctx.log(
    `transport floor at ${rate} msg/s for ${steadyS} s (+${warmupS} s warm-up): producer -> Kafka -> bare consumer`,
  );
  const run = await ctx.freshRun('floor');
  // The aggregator's defaults for batch size, poll wait and commit interval: its transport, minus the sinks.
  const agg = loadAggregatorConfig([], {});
  let assigned = false;
  const consumer = await BatchConsumer.connect({
    brokers: ctx.brokers,
    groupId: run.env.KAFKA_GROUP_ID as string,
    clientId: 'tickflow-bench-floor',
    topics: [run.topic],
    onAssign: () => {
      assigned = true;
    },
  });
  const committer = new OffsetCommitter({
    commit: (o) => consumer.commit(o),
    minIntervalMs: agg.commitIntervalMs,
  });
  const latency = new LatencyHistogram();
  // ingest -> the broker's append time (the run's topic is LogAppendTime), as the aggregator splits it.
  const toBroker = new LatencyHistogram();
  let consumed = 0;
  // Messages and non-empty polls inside the measured window: the batch size the sinks would get.
  let measuredMessages = 0;
  let measuredPolls = 0;
  let measureFromUs = Number.POSITIVE_INFINITY;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const messages = await consumer.poll(agg.maxBatch, agg.pollTimeoutMs);
      const polledAtUs = (performance.timeOrigin + performance.now()) * 1000;
      const offsets = new Map<number, PartitionOffset>();
      for (const m of messages) {
        const decoded = decodeTrade(m.value);
        // Trades ingested before the warm-up ended are left out, as the aggregator's --latency-warmup does.
        if (decoded.ok && decoded.trade.ingestTimeUs >= measureFromUs) {
          latency.recordUs(polledAtUs - decoded.trade.ingestTimeUs);
          if (m.timestamp !== undefined && m.timestamp > 0)
            toBroker.recordUs(m.timestamp * 1000 - decoded.trade.ingestTimeUs);
        }
        offsets.set(m.partition, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
      }
      consumed += messages.length;
      if (messages.length > 0 && polledAtUs >= measureFromUs) {
        measuredMessages += messages.length;
        measuredPolls++;
      }
      committer.add([...offsets.values()]);
    }
  })();
  let floor: {
    summary: FixedRateProducerSummary | undefined;
    producerToBroker: Latency;
    ingestToPolled: Latency;
    batchRows: number;
    cpuPressurePct: number | undefined;
  };
  try {
    const deadline = performance.now() + 60_000;
    while (!assigned) {
      if (performance.now() > deadline)
        throw new Error('transport floor: no partitions assigned within 60 s');
      await sleep(100);
    }
    const t0 = performance.now();
    const producer = ctx.start(
      'producer',
      ['produce', '--rate', String(rate), '--duration', `${warmupS + steadyS}s`, ...LATENCY_PRODUCER_FLAGS],
      run,
      t0,
    );
    measureFromUs = (performance.timeOrigin + performance.now()) * 1000 + warmupS * 1_000_000;
    await Promise.race([producer.exited, sleep(warmupS * 1000)]);
    const endPressure = startPressureWindow();
    await producer.exited;
    const cpuPressurePct = endPressure();
    const summary = producer.ofKind('summary')[0] as FixedRateProducerSummary | undefined;
    const acked = summary?.acked ?? 0;
    const drainBy = performance.now() + 60_000;
    while (consumed < acked && performance.now() < drainBy) await sleep(100);
    if (consumed < acked) ctx.log(`  warning: consumed ${consumed} of ${acked} messages`);
    const ingestToPolled = latency.summary();
    ctx.log(`  ingest -> polled ${latencyLine(ingestToPolled)}`);
    const batchRows = Math.max(1, Math.round(measuredMessages / Math.max(1, measuredPolls)));
    floor = { summary, producerToBroker: toBroker.summary(), ingestToPolled, batchRows, cpuPressurePct };
  } finally {
    stop = true;
    await loop.catch(() => undefined);
    await committer.flush();
    await consumer.close();
  }
  // With the producer stopped and the consumer closed: one durable write alone, then Kafka's own producer alone.
  const { summary, producerToBroker, ingestToPolled, batchRows, cpuPressurePct } = floor;
  const writes = ctx.plan.quick ? 100 : 1000;
  const commit = await measureCommitFloor(run.env.DATABASE_URL as string, batchRows, writes);
  ctx.log(`  durable write of ${batchRows} rows (${writes} writes, one at a time): ${latencyLine(commit)}`);
  const kafkaProducer = await kafkaProducerLatency(ctx, rate, steadyS);
  return {
    name: 'transport-floor',
    requestedPerSec: rate,
    producedPerSec: summary ? summary.acked / (summary.elapsedMs / 1000) : 0,
    producerToBroker,
    ingestToPolled,
    commit: { batchRows, writes, latency: commit },
    ...(cpuPressurePct === undefined ? {} : { cpuPressurePct }),
    kafkaProducer,
  };
}
