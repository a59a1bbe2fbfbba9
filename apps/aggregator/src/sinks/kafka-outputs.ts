import { type Bar, DLQ_HEADERS, encodeAlert, encodeBar, type PriceAlert } from '@tickflow/contracts';
import type { KafkaHeaders, KafkaProducer, OutgoingRecord } from '@tickflow/kafka';
import { activeTraceHeaders } from '@tickflow/telemetry';
import type { DeadLetter } from '../classify.ts';

export interface OutputTopics {
  bars: string;
  alerts: string;
  deadLetters: string;
}

/** Bars, alerts and dead letters back to Kafka; each call resolves once the broker acknowledged all. */
export class KafkaOutputs {
  readonly #producer: KafkaProducer;
  readonly #topics: OutputTopics;

  constructor(producer: KafkaProducer, topics: OutputTopics) {
    this.#producer = producer;
    this.#topics = topics;
  }

  /** Bars and alerts carry the trace context of the write that sent them, when the batch is traced. */
  writeBars(bars: readonly Bar[]): Promise<void> {
    const headers = activeTraceHeaders();
    return this.#producer.sendAll(
      bars.map((b) => ({
        topic: this.#topics.bars,
        key: b.symbol,
        value: Buffer.from(encodeBar(b)),
        ...(headers ? { headers } : {}),
      })),
    );
  }

  writeAlerts(alerts: readonly PriceAlert[]): Promise<void> {
    const headers = activeTraceHeaders();
    return this.#producer.sendAll(
      alerts.map((a) => ({
        topic: this.#topics.alerts,
        key: a.symbol,
        value: Buffer.from(encodeAlert(a)),
        ...(headers ? { headers } : {}),
      })),
    );
  }

  writeDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    return this.#producer.sendAll(letters.map((d) => deadLetterRecord(d, this.#topics.deadLetters)));
  }
}

/** The original key and bytes untouched, original headers kept (trace context), plus the contract's. */
export function deadLetterRecord(d: DeadLetter, topic: string): OutgoingRecord {
  const m = d.message;
  const headers: KafkaHeaders = [
    ...(m.headers ?? []),
    { [DLQ_HEADERS.reason]: d.reason },
    { [DLQ_HEADERS.sourceTopic]: m.topic },
    { [DLQ_HEADERS.sourcePartition]: String(m.partition) },
    { [DLQ_HEADERS.sourceOffset]: String(m.offset) },
    { [DLQ_HEADERS.error]: d.error.slice(0, 1000) },
  ];
  return { topic, key: m.key ?? null, value: m.value ?? Buffer.alloc(0), headers };
}
