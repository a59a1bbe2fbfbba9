import type { Bar, PriceAlert, Trade } from '@tickflow/contracts';
import type { ConsumedMessage, PartitionOffset } from '@tickflow/kafka';
import { tradeKey } from '@tickflow/storage';
import { LatencyHistogram } from '@tickflow/telemetry';
import { classifyBatch, type DeadLetter } from './classify.ts';
import { coalesceLatest, type MarketAggregator } from './core/index.ts';
import { retryUntilDone } from './retry.ts';

/** Everything a batch is written to. Each method resolves only once its store has durably taken the data. */
export interface Sinks {
  /** Adds the `tradeKey` of every trade it newly stored to `fresh` (already stored ones are skipped). */
  storeTrades(trades: readonly Trade[], fresh: Set<string>): Promise<unknown>;
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
    const latest = [...coalesceLatest(batch.trades).values()];
    const sinksStart = this.#now();

    // Durable state first: trades, latest prices, dead letters.
    const fresh = new Set<string>();
    const s = this.#sinks;
    await this.#writeAll([
      ['postgres trades', batch.trades.length > 0 ? () => s.storeTrades(batch.trades, fresh) : undefined],
      ['redis latest', latest.length > 0 ? () => s.writeLatest(latest) : undefined],
      [
        'kafka dead letters',
        batch.deadLetters.length > 0 ? () => s.writeDeadLetters(batch.deadLetters) : undefined,
      ],
    ]);
    const storedAt = this.#now();

    // The core sees each trade once: only those this batch newly stored, so a duplicated or
    // replayed message never counts twice in a bar (the same set the database holds).
    for (const t of batch.trades) {
      if (!fresh.delete(tradeKey(t.source, t.symbol, t.tradeId))) continue;
      if (this.#core.add(t, polledAt).late) this.stats.lateTrades++;
    }
    const out = this.#core.drain(polledAt);
    const coreDone = this.#now();
    await this.#writeAll([
      ['kafka bars', out.bars.length > 0 ? () => s.writeBars(out.bars) : undefined],
      ['postgres alerts', out.alerts.length > 0 ? () => s.storeAlerts(out.alerts) : undefined],
      ['kafka alerts', out.alerts.length > 0 ? () => s.writeAlerts(out.alerts) : undefined],
      ['redis alerts', out.alerts.length > 0 ? () => s.publishAlerts(out.alerts) : undefined],
    ]);

    for (const t of batch.trades) {
      this.latency.endToEnd.recordUs(storedAt - t.ingestTimeUs);
      this.latency.toConsumer.recordUs(polledAt - t.ingestTimeUs);
    }
    if (messages.length > 0) {
      this.latency.processing.recordUs(sinksStart - polledAt + (coreDone - storedAt));
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

  /** Sinks run concurrently and each retries on its own, so one outage does not re-run the others. */
  async #writeAll(tasks: Array<[string, (() => Promise<unknown>) | undefined]>): Promise<void> {
    await Promise.all(
      tasks.map(([name, fn]) =>
        fn
          ? retryUntilDone(fn, {
              signal: this.#opts.signal,
              onRetry: (attempt, err, delay) => {
                this.stats.sinkRetries++;
                this.failingSinks.add(name);
                this.#opts.onSinkRetry?.(name, attempt, err, delay);
              },
            }).then(() => this.failingSinks.delete(name))
          : undefined,
      ),
    );
  }
}
