import { type Bar, DLQ_REASONS, type PriceAlert, type Trade } from '@tickflow/contracts';
import type { ConsumedMessage, PartitionOffset } from '@tickflow/kafka';
import { LatencyHistogram } from '@tickflow/telemetry';
import { classifyBatch, type DeadLetter } from './classify.ts';
import { coalesceLatest, type MarketAggregator } from './core/index.ts';
import { retryUntilDone } from './retry.ts';

/** Everything a batch is written to. Each method resolves only once its store has durably taken the data. */
export interface Sinks {
  /** Sets `fresh[i]` to 1 for every trade it newly stored (already stored ones stay 0); see TradeWriteOptions. */
  storeTrades(trades: readonly Trade[], fresh: Uint8Array): Promise<unknown>;
  storeAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeLatest(latest: Iterable<Trade>): Promise<unknown>;
  publishAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeBars(bars: readonly Bar[]): Promise<unknown>;
  writeAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeDeadLetters(letters: readonly DeadLetter[]): Promise<unknown>;
}

/** The sink writes of a batch, by the name used in logs, metrics (`sink` label, spaces as _) and spans. */
export const SINK_NAMES = [
  'postgres trades',
  'redis latest',
  'kafka dead letters',
  'kafka bars',
  'postgres alerts',
  'kafka alerts',
  'redis alerts',
] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/**
 * Tracing hooks of one batch (apps/aggregator/src/tracing.ts implements them over OpenTelemetry).
 * The pipeline only calls them; with no tracer configured it does not even allocate.
 */
export interface BatchTrace {
  /** Runs one sink write (with its retries) inside a child span; `messages` are the ones it concerns. */
  sink<T>(
    sink: SinkName,
    records: number,
    run: () => Promise<T>,
    messages?: readonly ConsumedMessage[],
  ): Promise<T>;
  /** A failed attempt of a sink write, about to be retried. */
  retry(sink: SinkName, attempt: number, err: Error): void;
  end(result: { stored: number; fresh: number; deadLetters: number } | undefined, err?: unknown): void;
}

export interface PipelineTracer {
  /** The batch's trace, or undefined when it is not sampled. */
  startBatch(messages: readonly ConsumedMessage[]): BatchTrace | undefined;
}

export interface PipelineStats {
  consumed: number;
  stored: number;
  /** Valid trades already in the database (redeliveries, replays): stored again idempotently, not re-aggregated. */
  duplicates: number;
  deadLetters: number;
  lateTrades: number;
  bars: number;
  alerts: number;
  batches: number;
  sinkRetries: number;
  /** Times consumption paused because a sink was failing, and for how long in total (ms, closed pauses). */
  backpressurePauses: number;
  pausedMs: number;
}

/** Per-stage latencies, µs: ingest -> polled, decode + core, sink writes, and ingest -> durably stored. */
export class StageLatencies {
  readonly endToEnd = new LatencyHistogram();
  readonly toConsumer = new LatencyHistogram();
  /**
   * ingest -> the record's Kafka timestamp, and that timestamp -> polled. On a topic with
   * `message.timestamp.type=LogAppendTime` (the bench's) that is the broker's append time, which
   * splits ingest -> polled into producer -> broker and broker -> aggregator without a delivery
   * report per record. Kafka timestamps are whole ms: the first reads up to 1 ms short, the second
   * up to 1 ms long. On a CreateTime topic the timestamp is the producer's send call instead.
   */
  readonly toRecordTime = new LatencyHistogram();
  readonly fromRecordTime = new LatencyHistogram();
  readonly processing = new LatencyHistogram();
  readonly sinkWrite = new LatencyHistogram();

  resetTotals(): void {
    for (const h of [
      this.endToEnd,
      this.toConsumer,
      this.toRecordTime,
      this.fromRecordTime,
      this.processing,
      this.sinkWrite,
    ])
      h.resetTotal();
  }
}

export interface PipelineOptions {
  maxMessageBytes: number;
  /** Aborting makes sink retries give up (hard shutdown deadline). */
  signal?: AbortSignal;
  onSinkRetry?: (sink: string, attempt: number, err: Error, delayMs: number) => void;
  /** Every finished sink write: records written and seconds taken, retries included (for metrics). */
  onSinkWrite?: (sink: SinkName, records: number, seconds: number) => void;
  /** Every non-empty batch, with its size in messages (for metrics). */
  onBatch?: (messages: number) => void;
  tracer?: PipelineTracer;
  nowUs?: () => number;
}

export const wallClockUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/**
 * One batch through the whole path: decode/validate -> pure core -> every sink -> offsets to
 * commit. Trades and the latest prices are written before the method resolves; the returned
 * offsets may be committed only after that, which is what makes the database effect exactly-once
 * (writes are idempotent, offsets never run ahead of them).
 */
export class BatchPipeline {
  readonly stats: PipelineStats = {
    consumed: 0,
    stored: 0,
    duplicates: 0,
    deadLetters: 0,
    lateTrades: 0,
    bars: 0,
    alerts: 0,
    batches: 0,
    sinkRetries: 0,
    backpressurePauses: 0,
    pausedMs: 0,
  };
  readonly latency = new StageLatencies();
  /** Sinks currently failing (retrying); readiness is false while any is. */
  readonly failingSinks = new Set<string>();
  /** Dead letters by reason, every reason present from the start (so its series exists at 0). */
  readonly deadLettersByReason = new Map<string, number>(DLQ_REASONS.map((r) => [r, 0]));
  /** Failed write attempts per sink. */
  readonly sinkErrors = new Map<SinkName, number>(SINK_NAMES.map((n) => [n, 0]));
  /** Records handed to each sink and not yet confirmed (the batch being written), 0 when idle. */
  readonly sinkQueue = new Map<SinkName, number>(SINK_NAMES.map((n) => [n, 0]));
  #pausedSince: number | undefined;
  readonly #core: MarketAggregator;
  readonly #sinks: Sinks;
  readonly #opts: PipelineOptions;
  readonly #now: () => number;
  /** symbol -> `topic/partition`, to drop a symbol's state when its partition is revoked. */
  readonly #partitionOf = new Map<string, string>();

  constructor(core: MarketAggregator, sinks: Sinks, opts: PipelineOptions) {
    this.#core = core;
    this.#sinks = sinks;
    this.#opts = opts;
    this.#now = opts.nowUs ?? wallClockUs;
  }

  /**
   * Starts a batch and resolves with its offsets once every sink took it. Two batches may overlap:
   * the next one's durable writes start while the previous one finishes, but Redis latest writes,
   * the core and the outputs stay in batch (offset) order, so callers commit in order too.
   */
  async process(messages: readonly ConsumedMessage[]): Promise<PartitionOffset[]> {
    const trace = messages.length > 0 ? this.#opts.tracer?.startBatch(messages) : undefined;
    try {
      const { offsets, counts } = await this.#process(messages, trace);
      trace?.end(counts);
      return offsets;
    } catch (err) {
      trace?.end(undefined, err);
      throw err;
    }
  }

  /** Milliseconds consumption has been paused by failing sinks, the current pause included. */
  pausedMs(): number {
    return (
      this.stats.pausedMs + (this.#pausedSince === undefined ? 0 : performance.now() - this.#pausedSince)
    );
  }

  /** Settles when the previous batch's durable writes did (Redis latest waits for it). */
  #durableChain: Promise<unknown> = Promise.resolve();
  /** Settles when the previous batch's core step and outputs did. */
  #coreChain: Promise<unknown> = Promise.resolve();

  #process(
    messages: readonly ConsumedMessage[],
    trace: BatchTrace | undefined,
  ): Promise<{ offsets: PartitionOffset[]; counts: { stored: number; fresh: number; deadLetters: number } }> {
    const polledAt = this.#now();
    const batch = classifyBatch(messages, this.#opts.maxMessageBytes, this.#partitionOf);
    const latest = [...coalesceLatest(batch.trades).values()];
    const sinksStart = this.#now();

    // Durable state first: trades, latest prices, dead letters. The trades INSERT starts at once;
    // the latest-price write waits for the previous batch's, so ties keep the later arrival.
    const fresh = new Uint8Array(batch.trades.length);
    const s = this.#sinks;
    const previousDurable = this.#durableChain;
    const durable = this.#writeAll(trace, [
      [
        'postgres trades',
        batch.trades.length > 0 ? () => s.storeTrades(batch.trades, fresh) : undefined,
        batch.trades.length,
      ],
      [
        'redis latest',
        latest.length > 0
          ? async () => {
              await previousDurable;
              return s.writeLatest(latest);
            }
          : undefined,
        latest.length,
      ],
      [
        'kafka dead letters',
        batch.deadLetters.length > 0 ? () => s.writeDeadLetters(batch.deadLetters) : undefined,
        batch.deadLetters.length,
        batch.deadLetters.map((d) => d.message),
      ],
    ]);
    this.#durableChain = durable.catch(() => undefined);

    const previousCore = this.#coreChain;
    const done = (async () => {
      await durable;
      const storedAt = this.#now();
      await previousCore;
      let freshCount = 0;
      const coreStart = this.#now();
      // The core sees each trade once: only those this batch newly stored, so a duplicated or
      // replayed message never counts twice in a bar (the same set the database holds).
      const trades = batch.trades;
      for (let i = 0; i < trades.length; i++) {
        if (fresh[i] !== 1) continue;
        freshCount++;
        if (this.#core.add(trades[i] as Trade, polledAt).late) this.stats.lateTrades++;
      }
      const out = this.#core.drain(polledAt);
      const coreDone = this.#now();
      const n = out.alerts.length;
      await this.#writeAll(trace, [
        ['kafka bars', out.bars.length > 0 ? () => s.writeBars(out.bars) : undefined, out.bars.length],
        ['postgres alerts', n > 0 ? () => s.storeAlerts(out.alerts) : undefined, n],
        ['kafka alerts', n > 0 ? () => s.writeAlerts(out.alerts) : undefined, n],
        ['redis alerts', n > 0 ? () => s.publishAlerts(out.alerts) : undefined, n],
      ]);

      const { trades: stored, recordTimesMs } = batch;
      for (let i = 0; i < stored.length; i++) {
        const ingestUs = (stored[i] as Trade).ingestTimeUs;
        this.latency.endToEnd.recordUs(storedAt - ingestUs);
        this.latency.toConsumer.recordUs(polledAt - ingestUs);
        const recordUs = (recordTimesMs[i] as number) * 1000;
        // NaN (no timestamp) fails the test. A whole-ms timestamp can fall before an ingest time in
        // the same millisecond: recordUs counts that as 1 µs.
        if (recordUs > 0) {
          this.latency.toRecordTime.recordUs(recordUs - ingestUs);
          this.latency.fromRecordTime.recordUs(polledAt - recordUs);
        }
      }
      if (messages.length > 0) {
        this.latency.processing.recordUs(sinksStart - polledAt + (coreDone - coreStart));
        this.latency.sinkWrite.recordUs(storedAt - sinksStart);
        this.stats.batches++;
        this.#opts.onBatch?.(messages.length);
      }
      this.stats.consumed += messages.length;
      this.stats.stored += batch.trades.length;
      this.stats.duplicates += batch.trades.length - freshCount;
      this.stats.deadLetters += batch.deadLetters.length;
      for (const d of batch.deadLetters)
        this.deadLettersByReason.set(d.reason, (this.deadLettersByReason.get(d.reason) ?? 0) + 1);
      this.stats.bars += out.bars.length;
      this.stats.alerts += out.alerts.length;
      return {
        offsets: [...batch.nextOffsets.values()],
        counts: { stored: batch.trades.length, fresh: freshCount, deadLetters: batch.deadLetters.length },
      };
    })();
    this.#coreChain = done.catch(() => undefined);
    return done;
  }

  /** Drops in-memory windows of symbols on revoked partitions; their new owner rebuilds from the committed offset. */
  forgetPartitions(partitions: ReadonlyArray<{ topic: string; partition: number }>): number {
    const revoked = new Set(partitions.map((p) => `${p.topic}/${p.partition}`));
    const symbols: string[] = [];
    for (const [symbol, key] of this.#partitionOf) {
      if (revoked.has(key)) symbols.push(symbol);
    }
    for (const s of symbols) this.#partitionOf.delete(s);
    this.#core.forget(symbols);
    return symbols.length;
  }

  /** Sinks run concurrently and each retries on its own, so one outage does not re-run the others. */
  async #writeAll(
    trace: BatchTrace | undefined,
    tasks: Array<[SinkName, (() => Promise<unknown>) | undefined, number, (readonly ConsumedMessage[])?]>,
  ): Promise<void> {
    await Promise.all(
      tasks.map(([name, fn, records, messages]) => {
        if (!fn) return undefined;
        const run = () =>
          retryUntilDone(fn, {
            signal: this.#opts.signal,
            onRetry: (attempt, err, delay) => {
              this.stats.sinkRetries++;
              this.sinkErrors.set(name, (this.sinkErrors.get(name) ?? 0) + 1);
              if (this.failingSinks.size === 0 && this.#pausedSince === undefined) {
                this.stats.backpressurePauses++;
                this.#pausedSince = performance.now();
              }
              this.failingSinks.add(name);
              trace?.retry(name, attempt, err);
              this.#opts.onSinkRetry?.(name, attempt, err, delay);
            },
          }).then(() => {
            this.failingSinks.delete(name);
            if (this.failingSinks.size === 0 && this.#pausedSince !== undefined) {
              this.stats.pausedMs += performance.now() - this.#pausedSince;
              this.#pausedSince = undefined;
            }
          });
        const started = performance.now();
        this.sinkQueue.set(name, records);
        return (trace ? trace.sink(name, records, run, messages) : run()).finally(() => {
          this.sinkQueue.set(name, 0);
          this.#opts.onSinkWrite?.(name, records, (performance.now() - started) / 1000);
        });
      }),
    );
  }
}
