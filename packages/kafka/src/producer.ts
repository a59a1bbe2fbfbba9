import type { LibrdKafkaError, Producer, ProducerGlobalConfig } from '@confluentinc/kafka-javascript';
import type { KafkaHeaders } from './headers.ts';
import { ERR, errorMessage, RdKafka } from './native.ts';

export interface OutgoingRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer;
  headers?: KafkaHeaders;
}

/**
 * Called once per record, after the broker acknowledged it (err null) or it failed for good; the
 * partition and offset it was written to come with an acknowledgement (-1 otherwise).
 */
export type DeliveryCallback = (
  err: Error | null,
  record: OutgoingRecord,
  latencyUs: number,
  partition: number,
  offset: number,
) => void;

export interface ProducerOptions {
  brokers: string;
  clientId: string;
  /** Records handed to librdkafka but not yet acknowledged; the bound on producer memory. */
  window?: number;
  compression?: 'none' | 'lz4' | 'zstd' | 'gzip' | 'snappy';
  lingerMs?: number;
  /** Re-sends after librdkafka itself gave up (its own retries run until delivery.timeout.ms). */
  maxResends?: number;
  extra?: ProducerGlobalConfig;
  onError?: (err: Error) => void;
}

interface InFlight {
  record: OutgoingRecord;
  enqueuedAt: number;
  attempt: number;
  cb: DeliveryCallback | undefined;
}

/**
 * Idempotent Kafka producer with a bounded window of unacknowledged records. `trySend` never blocks
 * and returns false when the window is full; `whenWritable()` resolves once there is room again, so
 * callers apply backpressure instead of buffering without limit. A record whose delivery failed
 * after librdkafka's own retries is re-sent up to `maxResends` times and then reported, never
 * dropped silently.
 */
export class KafkaProducer {
  readonly #producer: Producer;
  readonly #window: number;
  readonly #maxResends: number;
  #inFlight = 0;
  #waiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  readonly stats = { sent: 0, acked: 0, failed: 0, resent: 0 };

  private constructor(producer: Producer, window: number, maxResends: number) {
    this.#producer = producer;
    this.#window = window;
    this.#maxResends = maxResends;
  }

  static async connect(opts: ProducerOptions): Promise<KafkaProducer> {
    const window = opts.window ?? 20_000;
    const config: ProducerGlobalConfig = {
      'bootstrap.servers': opts.brokers,
      'client.id': opts.clientId,
      'enable.idempotence': true,
      'compression.type': opts.compression ?? 'lz4',
      'linger.ms': opts.lingerMs ?? 5,
      'batch.num.messages': 10_000,
      'batch.size': 1_048_576,
      'queue.buffering.max.messages': Math.max(window * 2, 100_000),
      'socket.nagle.disable': true,
      dr_cb: true,
      ...opts.extra,
    };
    // Same partitioner as the Java client, so a symbol lands on the same partition whoever produces it.
    const producer = new RdKafka.Producer(config, { partitioner: 'murmur2_random' });
    const self = new KafkaProducer(producer, window, opts.maxResends ?? 3);
    producer.on('delivery-report', (err, report) =>
      self.#onDelivery(err, report.opaque as InFlight, report.partition, report.offset),
    );
    producer.on('event.error', (err) => opts.onError?.(new Error(`kafka producer: ${errorMessage(err)}`)));
    await new Promise<void>((resolve, reject) => {
      producer.connect({ timeout: 30_000 }, (err) =>
        err ? reject(new Error(`kafka producer: ${errorMessage(err)}`)) : resolve(),
      );
    });
    // Delivery reports are polled on librdkafka's background thread: no JS timer on the hot path.
    producer.setPollInBackground(true);
    return self;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get writable(): boolean {
    return this.#inFlight < this.#window;
  }

  /** Enqueues a record unless the window is full. */
  trySend(record: OutgoingRecord, cb?: DeliveryCallback): boolean {
    if (this.#inFlight >= this.#window) return false;
    this.#produce({ record, enqueuedAt: performance.now(), attempt: 0, cb });
    return true;
  }

  /** Waits for room in the window, then enqueues. */
  async send(record: OutgoingRecord, cb?: DeliveryCallback): Promise<void> {
    while (!this.trySend(record, cb)) await this.whenWritable();
  }

  /** Sends all records and resolves once every one of them is acknowledged; rejects on a final failure. */
  sendAll(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let pending = records.length;
      let failed: Error | null = null;
      const done: DeliveryCallback = (err) => {
        if (err && !failed) failed = err;
        if (--pending === 0) {
          if (failed) reject(failed);
          else resolve();
        }
      };
      // Outputs are small next to the window; bypass it rather than deadlock a full window.
      for (const record of records)
        this.#produce({ record, enqueuedAt: performance.now(), attempt: 0, cb: done });
    });
  }

  whenWritable(): Promise<void> {
    if (this.#inFlight < this.#window) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when nothing is in flight any more. */
  drain(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  async close(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await new Promise<void>((resolve) => this.#producer.flush(timeoutMs, () => resolve()));
    await new Promise<void>((resolve) => this.#producer.disconnect(timeoutMs, () => resolve()));
  }

  #produce(item: InFlight): void {
    const { record } = item;
    for (;;) {
      try {
        this.#producer.produce(record.topic, null, record.value, record.key, null, item, record.headers);
        break;
      } catch (err) {
        // librdkafka's own queue is sized above the window, so QUEUE_FULL only happens when
        // sendAll bursts past it; poll to free space and retry synchronously.
        if ((err as LibrdKafkaError).code === ERR.QUEUE_FULL) {
          this.#producer.poll();
          continue;
        }
        throw err;
      }
    }
    if (item.attempt === 0) {
      this.#inFlight++;
      this.stats.sent++;
    }
  }

  #onDelivery(
    err: LibrdKafkaError | null | undefined,
    item: InFlight,
    partition: number | undefined,
    offset: number | undefined,
  ): void {
    if (err) {
      if (item.attempt < this.#maxResends) {
        item.attempt++;
        this.stats.resent++;
        this.#produce(item);
        return;
      }
      this.stats.failed++;
    } else {
      this.stats.acked++;
    }
    this.#inFlight--;
    const latencyUs = (performance.now() - item.enqueuedAt) * 1000;
    item.cb?.(
      err ? new Error(`delivery to ${item.record.topic} failed: ${errorMessage(err)}`) : null,
      item.record,
      latencyUs,
      err ? -1 : (partition ?? -1),
      err ? -1 : (offset ?? -1),
    );
    if (this.#waiters.length > 0 && this.#inFlight < this.#window) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
    if (this.#inFlight === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}
