import { type DlqReason, decodeTrade, type Trade } from '@tickflow/contracts';
import type { ConsumedMessage } from '@tickflow/kafka';

export interface DeadLetter {
  message: ConsumedMessage;
  reason: DlqReason;
  error: string;
}

export interface ClassifiedBatch {
  trades: Trade[];
  /** Each trade's Kafka record timestamp, ms (NaN when the record had none), parallel to `trades`. */
  recordTimesMs: number[];
  deadLetters: DeadLetter[];
  /** Next offset to commit per `topic/partition`, covering good and bad messages alike. */
  nextOffsets: Map<string, { topic: string; partition: number; offset: number }>;
}

/**
 * Splits a polled batch into valid trades and dead letters; never throws on input. `partitionOf`
 * (symbol -> `topic/partition`) is kept up to date so state can be dropped when a partition is revoked.
 */
export function classifyBatch(
  messages: readonly ConsumedMessage[],
  maxBytes: number,
  partitionOf?: Map<string, string>,
): ClassifiedBatch {
  const trades: Trade[] = [];
  const recordTimesMs: number[] = [];
  const deadLetters: DeadLetter[] = [];
  const nextOffsets = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const m of messages) {
    const result = decodeTrade(m.value, maxBytes);
    const key = `${m.topic}/${m.partition}`;
    if (result.ok) {
      trades.push(result.trade);
      recordTimesMs.push(m.timestamp ?? Number.NaN);
      if (partitionOf && partitionOf.get(result.trade.symbol) !== key)
        partitionOf.set(result.trade.symbol, key);
    } else {
      deadLetters.push({ message: m, reason: result.reason, error: result.error });
    }
    const prev = nextOffsets.get(key);
    if (!prev || m.offset + 1 > prev.offset)
      nextOffsets.set(key, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  }
  return { trades, recordTimesMs, deadLetters, nextOffsets };
}
