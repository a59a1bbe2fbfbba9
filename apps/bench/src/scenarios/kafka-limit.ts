import { spawn } from 'node:child_process';
import { ensureTopics } from '@tickflow/kafka';
import { KAFKA_TOOLS, kafkaToolCommand, wrapCommand } from '@tickflow/stack';
import type { BenchContext } from '../context.ts';
import type { ScenarioResult } from '../result.ts';

/** A Tickflow Trade on the wire is ~60-70 bytes; the perf tools use the same size. */
export const TRADE_RECORD_BYTES = 64;

/** "100000 records sent, 98425.19 records/sec (6.01 MB/sec), ..." -> records/sec. */
export function parseProducerPerf(output: string): number {
  const m = /records sent, ([\d.]+) records\/sec/.exec(output);
  if (!m) throw new Error(`unexpected kafka-producer-perf-test output: ${output.slice(-500)}`);
  return Number(m[1]);
}

/** The CSV line of kafka-consumer-perf-test -> fetch.nMsg.sec (excludes the group join). */
export function parseConsumerPerf(output: string): number {
  const lines = output.split('\n').map((l) => l.trim());
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  const cols = lines[header]?.split(',').map((c) => c.trim());
  const values = lines[header + 1]?.split(',').map((c) => c.trim());
  const i = cols?.indexOf('fetch.nMsg.sec') ?? -1;
  if (header < 0 || !values || i < 0)
    throw new Error(`unexpected kafka-consumer-perf-test output: ${output.slice(-500)}`);
  return Number(values[i]);
}

/** kafka-producer-perf-test's arguments: `records` trade-sized records into `topic` at `rate` msg/s (-1: unthrottled). */
export function producerPerfArgs(
  brokers: string,
  topic: string,
  records: number,
  rate: number,
  props: readonly string[],
): string[] {
  return [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(TRADE_RECORD_BYTES),
    '--throughput',
    String(rate),
    '--producer-props',
    `bootstrap.servers=${brokers}`,
    ...props,
  ];
}

export function runTool(main: string, args: string[]): Promise<string> {
  const tool = kafkaToolCommand(main, args);
  // Through setpriv --pdeathsig: a bench stopped by Ctrl-C does not leave a perf-test JVM behind.
  const { command, args: full } = wrapCommand(tool.command, tool.args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${main} exited ${code}: ${out.slice(-800)}`)),
    );
  });
}

/** Kafka's own producer and consumer perf tools on the same broker, record size and partitions. */
export async function kafkaLimit(ctx: BenchContext, tickflowPerSec: number): Promise<ScenarioResult> {
  const records = ctx.plan.kafkaRecords;
  const topic = `bench-perf-${Date.now()}`;
  ctx.log(
    `kafka limit: ${records} records of ${TRADE_RECORD_BYTES} bytes through kafka-producer/consumer-perf-test`,
  );
  await ensureTopics(ctx.brokers, [{ topic, partitions: ctx.plan.partitions }]);
  const produced = await runTool(
    KAFKA_TOOLS.producerPerf,
    producerPerfArgs(ctx.brokers, topic, records, -1, [
      'acks=all',
      // As the bench's own producer (BENCH_PRODUCER_FLAGS): uncompressed records.
      'compression.type=none',
      'linger.ms=5',
      'batch.size=1048576',
    ]),
  );
  const consumed = await runTool(KAFKA_TOOLS.consumerPerf, [
    '--bootstrap-server',
    ctx.brokers,
    '--topic',
    topic,
    '--messages',
    String(records),
    '--timeout',
    '60000',
  ]);
  const producerPerfPerSec = parseProducerPerf(produced);
  const consumerPerfPerSec = parseConsumerPerf(consumed);
  ctx.log(
    `  producer-perf ${Math.round(producerPerfPerSec)} msg/s, consumer-perf ${Math.round(consumerPerfPerSec)} msg/s`,
  );
  return {
    name: 'kafka-limit',
    records,
    recordBytes: TRADE_RECORD_BYTES,
    partitions: ctx.plan.partitions,
    producerPerfPerSec,
    consumerPerfPerSec,
    tickflowPerSec,
    tickflowShareOfConsume: consumerPerfPerSec > 0 ? tickflowPerSec / consumerPerfPerSec : null,
  };
}
