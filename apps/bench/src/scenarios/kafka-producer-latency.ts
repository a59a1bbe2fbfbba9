import { ensureTopics } from '@tickflow/kafka';
import { KAFKA_TOOLS } from '@tickflow/stack';
import type { BenchContext } from '../context.ts';
import { startPressureWindow } from '../pressure.ts';
import { LATENCY_LINGER_MS } from '../producer-flags.ts';
import type { KafkaProducerLatency, PerfToolLatency } from '../result.ts';
import { producerPerfArgs, runTool } from './kafka-limit.ts';

/**
 * The summary line of kafka-producer-perf-test, e.g. "900000 records sent, 19992.9 records/sec
 * (1.22 MB/sec), 2.20 ms avg latency, 256.00 ms max latency, 2 ms 50th, 4 ms 95th, 8 ms 99th, 30 ms
 * 99.9th." (the tool prints whole milliseconds for its percentiles).
 */
export function parseProducerPerfLatency(output: string): PerfToolLatency {
  const m =
    /([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      output,
    );
  if (!m) throw new Error(`unexpected kafka-producer-perf-test output: ${output.slice(-500)}`);
  const at = (i: number) => Number(m[i]);
  return { mean: at(1), max: at(2), p50: at(3), p95: at(4), p99: at(5), p999: at(6) };
}

/**
 * Kafka's own Java producer at the latency runs' rate, linger, acks and record size, into a fresh
 * topic on the same broker with nothing consuming: send -> broker ack. The part of the end-to-end
 * budget Kafka's client and broker take on this machine before any consumer or database runs.
 * The tool's percentiles cover the whole run, the JVM's first seconds included (it has no warm-up).
 */
export async function kafkaProducerLatency(
  ctx: BenchContext,
  rate: number,
  seconds: number,
): Promise<KafkaProducerLatency> {
  const topic = `bench-perf-latency-${Date.now()}`;
  ctx.log(
    `kafka-producer-perf-test at ${rate} msg/s for ${seconds} s, linger ${LATENCY_LINGER_MS} ms, acks=all`,
  );
  await ensureTopics(ctx.brokers, [{ topic, partitions: ctx.plan.partitions }]);
  const endPressure = startPressureWindow();
  const output = await runTool(
    KAFKA_TOOLS.producerPerf,
    producerPerfArgs(ctx.brokers, topic, rate * seconds, rate, [
      'acks=all',
      'compression.type=none',
      `linger.ms=${LATENCY_LINGER_MS}`,
    ]),
  );
  const cpuPressurePct = endPressure();
  const ack = parseProducerPerfLatency(output);
  ctx.log(
    `  send -> ack ms p50 ${ack.p50} / p95 ${ack.p95} / p99 ${ack.p99} / p99.9 ${ack.p999} / max ${ack.max} (mean ${ack.mean})`,
  );
  return {
    seconds,
    lingerMs: LATENCY_LINGER_MS,
    ack,
    ...(cpuPressurePct === undefined ? {} : { cpuPressurePct }),
  };
}
