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
  /**
   * 'all' (default): every record gets a delivery report, so callbacks see each acknowledgement and
   * its latency. 'errors': only failures are reported (librdkafka's delivery.report.only.error);
   * success callbacks never run and librdkafka's own queue bounds the window. A delivery report
   * costs ~5 µs of the producer's main thread (a JS object built per record and an event emitted),
   * a third of its CPU at 40k msg/s on the bench machine.
   */
  deliveryReports?: 'all' | 'errors';
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
  readonly #errorsOnly: boolean;
  #inFlight = 0;
  /** Errors-only mode: records in librdkafka's queues at the last statistics event. */
  #queued = 0;
  #waiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  readonly stats = { sent: 0, acked: 0, failed: 0, resent: 0 };

  private constructor(producer: Producer, window: number, maxResends: number, errorsOnly: boolean) {
    this.#producer = producer;
    this.#window = window;
    this.#maxResends = maxResends;
    this.#errorsOnly = errorsOnly;
  }

  static async connect(opts: ProducerOptions): Promise<KafkaProducer> {
    const window = opts.window ?? 20_000;
    const errorsOnly = opts.deliveryReports === 'errors';
    const config: ProducerGlobalConfig = {
      'bootstrap.servers': opts.brokers,
      'client.id': opts.clientId,
      'enable.idempotence': true,
      'compression.type': opts.compression ?? 'lz4',
      'linger.ms': opts.lingerMs ?? 5,
      'batch.num.messages': 10_000,
      'batch.size': 1_048_576,
      // Errors-only mode has no per-record acknowledgement to count, so librdkafka's queue (which
      // holds a record until it is acknowledged) is the window itself.
      'queue.buffering.max.messages': errorsOnly ? window : Math.max(window * 2, 100_000),
      'socket.nagle.disable': true,
      dr_cb: true,
      ...(errorsOnly ? { 'delivery.report.only.error': true, 'statistics.interval.ms': 1000 } : {}),
      ...opts.extra,
    };
    // Same partitioner as the Java client, so a symbol lands on the same partition whoever produces it.
    const producer = new RdKafka.Producer(config, { partitioner: 'murmur2_random' });
    const self = new KafkaProducer(producer, window, opts.maxResends ?? 3, errorsOnly);
    if (errorsOnly) producer.on('event.stats', (event) => self.#onStats(event.message));
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

  /** Records sent and not yet acknowledged (errors-only mode: as of librdkafka's last statistics, ≤ 1 s old). */
  get inFlight(): number {
    return this.#errorsOnly ? this.#queued : this.#inFlight;
  }

  get writable(): boolean {
    return this.#errorsOnly || this.#inFlight < this.#window;
  }

  /** Enqueues a record unless the window is full. */
  trySend(record: OutgoingRecord, cb?: DeliveryCallback): boolean {
    if (this.#errorsOnly) return this.#produce({ record, enqueuedAt: 0, attempt: 0, cb }, true);
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
    if (this.#errorsOnly) return Promise.reject(new Error('sendAll needs delivery reports for every record'));
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
    // Errors-only: no acknowledgement tells when librdkafka's queue has room; retry shortly.
    if (this.#errorsOnly) return new Promise((resolve) => setTimeout(resolve, 1));
    if (this.#inFlight < this.#window) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when nothing is in flight any more. */
  async drain(): Promise<void> {
    if (this.#errorsOnly) {
      // flush() returns once librdkafka's queues are empty, i.e. every record acknowledged or failed;
      // any other error than its timeout (e.g. disconnected) ends the wait.
      let err: LibrdKafkaError | null;
      do err = await this.#flush(1000);
      while (err?.code === ERR.TIMED_OUT);
      if (err === null) {
        this.stats.acked = this.stats.sent - this.stats.failed;
        this.#queued = 0;
      }
      return;
    }
    if (this.#inFlight === 0) return;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  async close(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await this.#flush(timeoutMs);
    await new Promise<void>((resolve) => this.#producer.disconnect(timeoutMs, () => resolve()));
  }

  #flush(timeoutMs: number): Promise<LibrdKafkaError | null> {
    return new Promise((resolve) => this.#producer.flush(timeoutMs, (err) => resolve(err ?? null)));
  }

  /** Errors-only mode: librdkafka's statistics are the only running count of unacknowledged records. */
  #onStats(json: string): void {
    try {
      const queued = (JSON.parse(json) as { msg_cnt?: number }).msg_cnt;
      if (typeof queued !== 'number') return;
      this.#queued = queued;
      this.stats.acked = Math.max(0, this.stats.sent - this.stats.failed - queued);
    } catch {
      // A malformed statistics event only leaves the estimate stale.
    }
  }

  /** Hands a record to librdkafka; with `failWhenFull`, returns false instead of waiting for queue room. */
  #produce(item: InFlight, failWhenFull = false): boolean {
    const { record } = item;
    for (;;) {
      try {
        this.#producer.produce(record.topic, null, record.value, record.key, null, item, record.headers);
        break;
      } catch (err) {
        if ((err as LibrdKafkaError).code === ERR.QUEUE_FULL) {
          if (failWhenFull) return false;
          // librdkafka's own queue is sized above the window, so QUEUE_FULL only happens when
          // sendAll bursts past it; poll to free space and retry synchronously.
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
    return true;
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
