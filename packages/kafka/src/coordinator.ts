import { setTimeout as delay } from 'node:timers/promises';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { errorMessage, RdKafka } from './native.ts';

const PROBE_RETRY_MS = 100;

/** Java's String.hashCode, which Kafka uses to place a group on a __consumer_offsets partition. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The __consumer_offsets partition of a group: Kafka's GroupCoordinatorService takes
 * Utils.abs(groupId.hashCode()) % partitions, where Utils.abs maps Integer.MIN_VALUE to 0.
 */
export function offsetsPartitionOf(groupId: string, offsetsPartitions: number): number {
  const h = javaStringHash(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % offsetsPartitions;
}

/** One group id per __consumer_offsets partition, so probing them all reaches every coordinator. */
export function probeGroupIds(offsetsPartitions: number, prefix = 'tickflow-coordinator-probe-'): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < offsetsPartitions; i++) {
    const id = `${prefix}${i}`;
    const p = offsetsPartitionOf(id, offsetsPartitions);
    if (!byPartition.has(p)) byPartition.set(p, id);
  }
  return [...byPartition.values()];
}

/**
 * Resolves once a consumer group's coordinator answers for every __consumer_offsets partition.
 * A fresh broker creates that topic on the first group request and loads its partitions after;
 * meanwhile coordinators answer NOT_COORDINATOR, and librdkafka's admin client crashes the process
 * on that answer to an offset fetch or a group description (SIGSEGV: librdkafka #5040,
 * confluent-kafka-javascript #374; seen in the operator's tests). A consumer's own committed-offsets
 * request goes through its group handle, which does not crash on that answer, so it is a safe probe,
 * repeated until it succeeds. Used by the local stack before it reports the broker ready.
 */
export async function waitForGroupCoordinators(
  brokers: string,
  offsetsPartitions: number,
  timeoutMs = 60_000,
): Promise<void> {
  await Promise.all(
    probeGroupIds(offsetsPartitions).map((group) => probeCoordinator(brokers, group, timeoutMs)),
  );
}

async function probeCoordinator(brokers: string, groupId: string, timeoutMs: number): Promise<void> {
  const consumer = new RdKafka.KafkaConsumer(
    { 'bootstrap.servers': brokers, 'group.id': groupId, 'enable.auto.commit': false },
    {},
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (err) =>
      err ? reject(new Error(`kafka coordinator probe: ${errorMessage(err)}`)) : resolve(),
    ),
  );
  try {
    // librdkafka passes a coordinator error straight back to committed() (seen: NOT_COORDINATOR within
    // 3 s of a fresh start), so ask again until the deadline; the last error explains a timeout.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const err = await new Promise<LibrdKafkaError | undefined>((resolve) =>
        consumer.committed(
          [{ topic: '__tickflow_probe', partition: 0 }],
          Math.max(1, deadline - Date.now()),
          (e: LibrdKafkaError) => resolve(e ?? undefined),
        ),
      );
      if (!err) return;
      if (Date.now() + PROBE_RETRY_MS >= deadline) {
        throw new Error(`kafka group coordinator of ${groupId} did not answer: ${errorMessage(err)}`);
      }
      await delay(PROBE_RETRY_MS);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
