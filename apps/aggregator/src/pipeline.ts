import type { Bar, PriceAlert, Trade } from '@tickflow/contracts';
import type { ConsumedMessage, PartitionOffset } from '@tickflow/kafka';
import { LatencyHistogram } from '@tickflow/telemetry';
import { type ClassifiedBatch, classifyBatch, type DeadLetter } from './classify.ts';
import { coalesceLatest, type MarketAggregator } from './core/index.ts';
import { retryUntilDone } from './retry.ts';

/** Everything a batch is written to. Each method resolves only once its store has durably taken the data. */
export interface Sinks {
  storeTrades(trades: readonly Trade[]): Promise<unknown>;
  storeAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeLatest(latest: Iterable<Trade>): Promise<unknown>;
  publishAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeBars(bars: readonly Bar[]): Promise<unknown>;
  writeAlerts(alerts: readonly PriceAlert[]): Promise<unknown>;
  writeDeadLetters(letters: readonly DeadLetter[]): Promise<unknown>;
}

export interface PipelineStats {
  consumed: number;
  stored: number;
  deadLetters: number;
  lateTrades: number;
  bars: number;
  alerts: number;
  batches: number;
  sinkRetries: number;
}

/** Per-stage latencies, µs: ingest -> polled, decode + core, sink writes, and ingest -> durably stored. */
export class StageLatencies {
  readonly endToEnd = new LatencyHistogram();
  readonly toConsumer = new LatencyHistogram();
  readonly processing = new LatencyHistogram();
  readonly sinkWrite = new LatencyHistogram();

  resetTotals(): void {
    for (const h of [this.endToEnd, this.toConsumer, this.processing, this.sinkWrite]) h.resetTotal();
  }
}

export interface PipelineOptions {
  maxMessageBytes: number;
  /** Aborting makes sink retries give up (hard shutdown deadline). */
  signal?: AbortSignal;
  onSinkRetry?: (sink: string, attempt: number, err: Error, delayMs: number) => void;
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
    deadLetters: 0,
    lateTrades: 0,
    bars: 0,
    alerts: 0,
    batches: 0,
    sinkRetries: 0,
  };
  readonly latency = new StageLatencies();
  /** Sinks currently failing (retrying); readiness is false while any is. */
  readonly failingSinks = new Set<string>();
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

  async process(messages: readonly ConsumedMessage[]): Promise<PartitionOffset[]> {
    const polledAt = this.#now();
    const batch = classifyBatch(messages, this.#opts.maxMessageBytes, this.#partitionOf);
    for (const t of batch.trades) {
      if (this.#core.add(t, polledAt).late) this.stats.lateTrades++;
    }
    const out = this.#core.drain(polledAt);
    const latest = coalesceLatest(batch.trades);
    const sinksStart = this.#now();

    await this.#writeAll(batch, out.bars, out.alerts, latest.values());

    const storedAt = this.#now();
    for (const t of batch.trades) {
      this.latency.endToEnd.recordUs(storedAt - t.ingestTimeUs);
      this.latency.toConsumer.recordUs(polledAt - t.ingestTimeUs);
    }
    if (messages.length > 0) {
      this.latency.processing.recordUs(sinksStart - polledAt);
      this.latency.sinkWrite.recordUs(storedAt - sinksStart);
      this.stats.batches++;
    }
    this.stats.consumed += messages.length;
    this.stats.stored += batch.trades.length;
    this.stats.deadLetters += batch.deadLetters.length;
    this.stats.bars += out.bars.length;
    this.stats.alerts += out.alerts.length;
    return [...batch.nextOffsets.values()];
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

  async #writeAll(
    batch: ClassifiedBatch,
    bars: Bar[],
    alerts: PriceAlert[],
    latest: Iterable<Trade>,
  ): Promise<void> {
    const s = this.#sinks;
    const tasks: Array<[string, () => Promise<unknown>]> = [];
    if (batch.trades.length > 0) tasks.push(['postgres trades', () => s.storeTrades(batch.trades)]);
    const latestList = [...latest];
    if (latestList.length > 0) tasks.push(['redis latest', () => s.writeLatest(latestList)]);
    if (batch.deadLetters.length > 0)
      tasks.push(['kafka dead letters', () => s.writeDeadLetters(batch.deadLetters)]);
    if (bars.length > 0) tasks.push(['kafka bars', () => s.writeBars(bars)]);
    if (alerts.length > 0) {
      tasks.push(['postgres alerts', () => s.storeAlerts(alerts)]);
      tasks.push(['kafka alerts', () => s.writeAlerts(alerts)]);
      tasks.push(['redis alerts', () => s.publishAlerts(alerts)]);
    }
    // Sinks run concurrently and each retries on its own, so one outage does not re-run the others.
    await Promise.all(
      tasks.map(([name, fn]) =>
        retryUntilDone(fn, {
          signal: this.#opts.signal,
          onRetry: (attempt, err, delay) => {
            this.stats.sinkRetries++;
            this.failingSinks.add(name);
            this.#opts.onSinkRetry?.(name, attempt, err, delay);
          },
        }).then(() => this.failingSinks.delete(name)),
      ),
    );
  }
}
