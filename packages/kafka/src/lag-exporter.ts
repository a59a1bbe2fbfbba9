import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { errorMessage, RdKafka } from './native.ts';

export interface TopicOffsets {
  topic: string;
  partitions: Array<{ partition: number; oldest: number; current: number }>;
}

export interface GroupOffsets {
  group: string;
  members: number;
  /** Committed offsets; -1 when the group has not committed for a partition. */
  offsets: Array<{ topic: string; partition: number; offset: number }>;
}

export interface KafkaOffsetsSnapshot {
  topics: TopicOffsets[];
  groups: GroupOffsets[];
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Prometheus text with the metric names and labels of the Kafka Exporter that Strimzi deploys
 * (danielqsj/kafka_exporter), so the Kafka dashboard and the lag alert work the same against a local
 * pipeline (`tickflow up`, the Prometheus test) and in a cluster. Lag of a partition without a
 * committed offset counts from the oldest offset, as KEDA's Kafka scaler does.
 */
export function renderKafkaExporterMetrics(s: KafkaOffsetsSnapshot): string {
  const out: string[] = [];
  const family = (name: string, help: string, type: 'gauge', rows: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
  };
  const byTopic = new Map(s.topics.map((t) => [t.topic, t]));
  family(
    'kafka_topic_partitions',
    'Number of partitions for this Topic',
    'gauge',
    s.topics.map((t) => `kafka_topic_partitions{topic="${esc(t.topic)}"} ${t.partitions.length}`),
  );
  family(
    'kafka_topic_partition_current_offset',
    'Current Offset of a Broker at Topic/Partition',
    'gauge',
    s.topics.flatMap((t) =>
      t.partitions.map(
        (p) =>
          `kafka_topic_partition_current_offset{partition="${p.partition}",topic="${esc(t.topic)}"} ${p.current}`,
      ),
    ),
  );
  family(
    'kafka_topic_partition_oldest_offset',
    'Oldest Offset of a Broker at Topic/Partition',
    'gauge',
    s.topics.flatMap((t) =>
      t.partitions.map(
        (p) =>
          `kafka_topic_partition_oldest_offset{partition="${p.partition}",topic="${esc(t.topic)}"} ${p.oldest}`,
      ),
    ),
  );
  const current: string[] = [];
  const lag: string[] = [];
  const lagSum: string[] = [];
  const members: string[] = [];
  for (const g of s.groups) {
    const group = esc(g.group);
    members.push(`kafka_consumergroup_members{consumergroup="${group}"} ${g.members}`);
    const sums = new Map<string, number>();
    for (const o of g.offsets) {
      const p = byTopic.get(o.topic)?.partitions.find((x) => x.partition === o.partition);
      if (!p) continue;
      const labels = `consumergroup="${group}",partition="${o.partition}",topic="${esc(o.topic)}"`;
      const l = o.offset >= 0 ? Math.max(0, p.current - o.offset) : Math.max(0, p.current - p.oldest);
      current.push(`kafka_consumergroup_current_offset{${labels}} ${o.offset}`);
      lag.push(`kafka_consumergroup_lag{${labels}} ${l}`);
      sums.set(o.topic, (sums.get(o.topic) ?? 0) + l);
    }
    for (const [topic, v] of sums)
      lagSum.push(`kafka_consumergroup_lag_sum{consumergroup="${group}",topic="${esc(topic)}"} ${v}`);
  }
  family(
    'kafka_consumergroup_current_offset',
    'Current Offset of a ConsumerGroup at Topic/Partition',
    'gauge',
    current,
  );
  family(
    'kafka_consumergroup_lag',
    'Current Approximate Lag of a ConsumerGroup at Topic/Partition',
    'gauge',
    lag,
  );
  family(
    'kafka_consumergroup_lag_sum',
    'Current Approximate Lag of a ConsumerGroup at Topic for all partitions',
    'gauge',
    lagSum,
  );
  family('kafka_consumergroup_members', 'Amount of members in a consumer group', 'gauge', members);
  return `${out.join('\n')}\n`;
}

export interface LagExporterOptions {
  brokers: string;
  /** Topics and groups to report (like kafka_exporter's --topic.filter / --group.filter). */
  topicFilter?: RegExp;
  groupFilter?: RegExp;
}

/**
 * Reads topic and consumer-group offsets through one long-lived admin client, on demand (each
 * Prometheus scrape). Internal topics (`__consumer_offsets`) are left out.
 */
export class KafkaLagExporter {
  readonly #admin: KafkaJS.Admin;
  readonly #opts: LagExporterOptions;

  private constructor(admin: KafkaJS.Admin, opts: LagExporterOptions) {
    this.#admin = admin;
    this.#opts = opts;
  }

  static async connect(opts: LagExporterOptions): Promise<KafkaLagExporter> {
    const kafka = new RdKafka.KafkaJS.Kafka({
      kafkaJS: { brokers: opts.brokers.split(','), logLevel: RdKafka.KafkaJS.logLevel.NOTHING },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
    } catch (err) {
      throw new Error(`cannot reach Kafka at ${opts.brokers} (KAFKA_BROKERS): ${errorMessage(err)}`);
    }
    return new KafkaLagExporter(admin, opts);
  }

  async snapshot(): Promise<KafkaOffsetsSnapshot> {
    const topicFilter = this.#opts.topicFilter ?? /.*/;
    const groupFilter = this.#opts.groupFilter ?? /.*/;
    const names = (await this.#admin.listTopics()).filter((t) => !t.startsWith('__') && topicFilter.test(t));
    const topics: TopicOffsets[] = await Promise.all(
      names.map(async (topic) => ({
        topic,
        partitions: (await this.#admin.fetchTopicOffsets(topic))
          .map((p) => ({ partition: p.partition, oldest: Number(p.low), current: Number(p.high) }))
          .sort((a, b) => a.partition - b.partition),
      })),
    );
    const listed = (await this.#admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => groupFilter.test(g));
    const described =
      listed.length > 0
        ? (await this.#admin.describeGroups(listed)).groups
        : ([] as Array<{ groupId: string; members: unknown[] }>);
    const membersOf = new Map(described.map((d) => [d.groupId, d.members.length]));
    const groups: GroupOffsets[] = await Promise.all(
      listed.map(async (group) => {
        const committed = await this.#admin.fetchOffsets({ groupId: group, topics: names });
        return {
          group,
          members: membersOf.get(group) ?? 0,
          offsets: committed.flatMap((t) =>
            t.partitions
              // A group reports every partition of a topic it was asked about; keep topics it consumed.
              .filter(() => t.partitions.some((p) => Number(p.offset) >= 0))
              .map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })),
          ),
        };
      }),
    );
    return { topics, groups };
  }

  async metrics(): Promise<string> {
    return renderKafkaExporterMetrics(await this.snapshot());
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }
}
