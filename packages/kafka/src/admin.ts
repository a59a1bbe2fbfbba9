import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { errorMessage, RdKafka } from './native.ts';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  /** Topic configs, e.g. { 'retention.ms': '86400000' }. */
  config?: Record<string, string>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  logEndOffset: number;
  /** -1 when the group has not committed for this partition yet. */
  committedOffset: number;
  lag: number;
}

async function withAdmin<T>(brokers: string, fn: (admin: KafkaJS.Admin) => Promise<T>): Promise<T> {
  const kafka = new RdKafka.KafkaJS.Kafka({
    kafkaJS: { brokers: brokers.split(','), logLevel: RdKafka.KafkaJS.logLevel.NOTHING },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot reach Kafka at ${brokers} (KAFKA_BROKERS): ${errorMessage(err)}`);
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates missing topics; existing ones are left as they are (a partition count is never lowered
 * by Kafka, and changing it would move symbols between partitions, breaking per-symbol order).
 */
export async function ensureTopics(brokers: string, specs: TopicSpec[]): Promise<string[]> {
  return withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      timeout: 30_000,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor ?? 1,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    // Metadata propagates asynchronously; wait until every new topic is listed.
    for (let i = 0; i < 50; i++) {
      const now = new Set(await admin.listTopics());
      if (missing.every((s) => now.has(s.topic))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return missing.map((s) => s.topic);
  });
}

/**
 * Consumer-group lag from the admin API: log-end offset minus committed offset, per partition.
 * A partition without a committed offset counts its whole log (log end minus log start) as lag,
 * as KEDA's Kafka scaler does by default.
 */
export async function consumerGroupLag(
  brokers: string,
  groupId: string,
  topic: string,
): Promise<PartitionLag[]> {
  return withAdmin(brokers, async (admin) => {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committedBy = new Map<number, number>();
    for (const t of committed) {
      for (const p of t.partitions) committedBy.set(p.partition, Number(p.offset));
    }
    return ends
      .map((e) => {
        const logEnd = Number(e.high);
        const logStart = Number(e.low);
        const c = committedBy.get(e.partition) ?? -1;
        const lag = c >= 0 ? Math.max(0, logEnd - c) : Math.max(0, logEnd - logStart);
        return { topic, partition: e.partition, logEndOffset: logEnd, committedOffset: c, lag };
      })
      .sort((a, b) => a.partition - b.partition);
  });
}
