import { randomUUID } from 'node:crypto';
import { BatchConsumer, type ConsumedMessage } from '@tickflow/kafka';

/** Reads a topic from the beginning until `count` messages arrived or the timeout passes (pass Infinity to read all within it). */
export async function readTopic(
  brokers: string,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<ConsumedMessage[]> {
  const consumer = await BatchConsumer.connect({
    brokers,
    groupId: `reader-${randomUUID()}`,
    clientId: 'test-reader',
    topics: [topic],
  });
  const out: ConsumedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (out.length < count && Date.now() < deadline) out.push(...(await consumer.poll(1000, 200)));
  } finally {
    await consumer.close();
  }
  return out;
}
