import { ensureTopics } from '@tickflow/kafka';
import { KAFKA_TOOLS } from '@tickflow/stack';
import type { BenchContext } from '../context.ts';
import { producerPerfArgs, runTool } from './kafka-limit.ts';

/**
 * Runs traffic through a freshly started broker before anything is measured: its JIT compiler
 * otherwise spends the first minute compiling the request paths, and the first scenario pays for it
 * (broker CPU 0.9 instead of 0.5 cores at 5k msg/s right after start).
 */
export async function warmUpBroker(ctx: BenchContext, seconds: number): Promise<void> {
  const topic = `bench-warm-up-${Date.now()}`;
  const rate = 50_000;
  ctx.log(`warming up the broker: ${seconds} s at ${rate} msg/s, then one read of it all`);
  await ensureTopics(ctx.brokers, [{ topic, partitions: ctx.plan.partitions }]);
  await runTool(
    KAFKA_TOOLS.producerPerf,
    producerPerfArgs(ctx.brokers, topic, rate * seconds, rate, ['linger.ms=5']),
  );
  await runTool(KAFKA_TOOLS.consumerPerf, [
    '--bootstrap-server',
    ctx.brokers,
    '--topic',
    topic,
    '--messages',
    String(rate * seconds),
    '--timeout',
    '60000',
  ]);
}
