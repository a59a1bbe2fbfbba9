import type {
  ConsumerGlobalConfig,
  KafkaConsumer,
  LibrdKafkaError,
  TopicPartition,
} from '@confluentinc/kafka-javascript';
import type { KafkaHeaders } from './headers.ts';
import { ERR, errorMessage, RdKafka } from './native.ts';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null | undefined;
  value: Buffer | null;
  headers: KafkaHeaders | undefined;
  /** Broker/producer timestamp, ms. */
  timestamp: number | undefined;
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1), as Kafka expects in a commit. */
  offset: number;
}

export interface BatchConsumerOptions {
  brokers: string;
  groupId: string;
  clientId: string;
  topics: string[];
  /** Runs before partitions are handed back; the consumer waits for it (finish and commit work). */
  onRevoke?: (partitions: TopicPartition[]) => Promise<void>;
  onAssign?: (partitions: TopicPartition[]) => void;
  onError?: (err: Error) => void;
  /** librdkafka's prefetch queue bound, KiB: the consumer's memory bound. */
  queuedMaxKbytes?: number;
  sessionTimeoutMs?: number;
  extra?: ConsumerGlobalConfig;
}

/** Methods the bundled typings omit but the native binding has (lib/kafka-consumer.js). */
type NativeConsumer = KafkaConsumer & {
  commitCb(offsets: PartitionOffset[], cb: (err: LibrdKafkaError | null) => void): void;
  incrementalAssign(partitions: TopicPartition[]): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
  assignmentLost(): boolean;
};

/**
 * Pull-based consumer for batch processing with manual commits: `poll(n, ms)` returns up to n
 * messages from all assigned partitions, `commit(offsets)` resolves once the broker stored them.
 * Auto-commit and auto offset store are off, so nothing counts as consumed until the caller has
 * durably processed it. Cooperative-sticky rebalancing: a revocation waits for `onRevoke` before
 * librdkafka is told to give the partitions up.
 */
export class BatchConsumer {
  readonly #consumer: NativeConsumer;
  readonly #opts: BatchConsumerOptions;
  #revoking: Promise<void> = Promise.resolve();
  #assigned = new Map<string, TopicPartition>();
  #closed = false;

  private constructor(consumer: NativeConsumer, opts: BatchConsumerOptions) {
    this.#consumer = consumer;
    this.#opts = opts;
  }

  static async connect(opts: BatchConsumerOptions): Promise<BatchConsumer> {
    let onRebalance: (err: LibrdKafkaError, assignment: TopicPartition[]) => void = () => undefined;
    const config: ConsumerGlobalConfig = {
      'bootstrap.servers': opts.brokers,
      'group.id': opts.groupId,
      'client.id': opts.clientId,
      'partition.assignment.strategy': 'cooperative-sticky',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': false,
      'fetch.wait.max.ms': 50,
      'fetch.min.bytes': 1,
      'queued.max.messages.kbytes': opts.queuedMaxKbytes ?? 32_768,
      // A crashed member's partitions move after this; the default 45 s stalls a failover.
      'session.timeout.ms': opts.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': Math.min(3000, Math.floor((opts.sessionTimeoutMs ?? 10_000) / 4)),
      'socket.nagle.disable': true,
      rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => onRebalance(err, assignment),
      ...opts.extra,
    };
    const consumer = new RdKafka.KafkaConsumer(config, { 'auto.offset.reset': 'earliest' }) as NativeConsumer;
    const self = new BatchConsumer(consumer, opts);
    onRebalance = (err, assignment) => self.#onRebalance(err, assignment);
    consumer.on('event.error', (err) => opts.onError?.(new Error(`kafka consumer: ${errorMessage(err)}`)));
    await new Promise<void>((resolve, reject) => {
      consumer.connect({ timeout: 30_000 }, (err) =>
        err ? reject(new Error(`kafka consumer: ${errorMessage(err)}`)) : resolve(),
      );
    });
    consumer.subscribe(opts.topics);
    return self;
  }

  /** Partitions currently owned. */
  get assignment(): TopicPartition[] {
    return [...this.#assigned.values()];
  }

  /** Up to `max` messages; waits at most `timeoutMs` for the first one, then takes what is ready. */
  async poll(max: number, timeoutMs: number): Promise<ConsumedMessage[]> {
    await this.#revoking;
    // The binding's "timeout only for the first message" mode still waits 1 ms after every later
    // message, so a batch only ends after 1 ms without a new one. Instead: take what is ready without
    // waiting; if nothing is, wait for one message, then take what is ready again (measured, broker
    // append -> polled p50: 1.58 -> 0.59 ms at 1k msg/s, 2.67 -> 0.93 ms at 20k).
    const ready = await this.#consume(max, 0);
    if (ready.length > 0 || timeoutMs <= 0) return ready;
    const first = await this.#consume(1, timeoutMs);
    if (first.length === 0 || max <= 1) return first;
    const rest = await this.#consume(max - 1, 0);
    if (rest.length === 0) return first;
    rest.unshift(first[0] as ConsumedMessage);
    return rest;
  }

  /** One consume call: up to `max` messages, each waited for at most `timeoutMs` (0: only ready ones). */
  #consume(max: number, timeoutMs: number): Promise<ConsumedMessage[]> {
    this.#consumer.setDefaultConsumeTimeout(timeoutMs);
    return new Promise<ConsumedMessage[]>((resolve, reject) => {
      this.#consumer.consume(max, (err, msgs) => {
        if (err && err.code !== ERR.TIMED_OUT) reject(new Error(`kafka consume: ${errorMessage(err)}`));
        else resolve((msgs ?? []) as unknown as ConsumedMessage[]);
      });
    });
  }

  commit(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#consumer.commitCb(offsets, (err) => {
        if (err) reject(new Error(`kafka commit: ${errorMessage(err)}`));
        else resolve();
      });
    });
  }

  /** High watermark minus position, per assigned partition, from librdkafka's cached fetch state. */
  lag(): Array<{ topic: string; partition: number; lag: number }> {
    const parts = this.assignment;
    if (parts.length === 0 || this.#closed) return [];
    let positions: ReturnType<NativeConsumer['position']>;
    try {
      positions = this.#consumer.position(parts);
    } catch {
      // Disconnected underneath us (shutdown, fatal error): no lag to report rather than a throw
      // from a timer or a metrics scrape, which would take the whole process down.
      return [];
    }
    return positions.map((p) => {
      let high = 0;
      try {
        high = this.#consumer.getWatermarkOffsets(p.topic, p.partition).highOffset;
      } catch {
        // Not fetched yet: no watermark cached.
      }
      const pos = typeof p.offset === 'number' && p.offset >= 0 ? p.offset : high;
      return { topic: p.topic, partition: p.partition, lag: Math.max(0, high - pos) };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#revoking;
    await new Promise<void>((resolve) => {
      this.#consumer.unsubscribe();
      this.#consumer.disconnect(() => resolve());
    });
  }

  #onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const key = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;
    try {
      if (err.code === ERR.ASSIGN_PARTITIONS) {
        this.#consumer.incrementalAssign(assignment);
        for (const tp of assignment)
          this.#assigned.set(key(tp), { topic: tp.topic, partition: tp.partition });
        this.#opts.onAssign?.(assignment);
      } else if (err.code === ERR.REVOKE_PARTITIONS) {
        const lost = this.#consumer.assignmentLost();
        const release = () => {
          for (const tp of assignment) this.#assigned.delete(key(tp));
          this.#consumer.incrementalUnassign(assignment);
        };
        if (lost || !this.#opts.onRevoke) {
          release();
          if (this.#opts.onRevoke) void this.#opts.onRevoke(assignment).catch(() => undefined);
          return;
        }
        // Keep ownership until the in-flight batch is stored and committed, then let go.
        this.#revoking = this.#revoking
          .then(() => this.#opts.onRevoke?.(assignment))
          .catch((e) => this.#opts.onError?.(e as Error))
          .finally(release);
      } else {
        this.#opts.onError?.(new Error(`kafka rebalance: ${errorMessage(err)}`));
      }
    } catch (e) {
      this.#opts.onError?.(new Error(`kafka rebalance: ${errorMessage(e)}`));
    }
  }
}
