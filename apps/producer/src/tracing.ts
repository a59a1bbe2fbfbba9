import {
  ATTR,
  type Attributes,
  type HeaderList,
  KAFKA,
  PRESAMPLED_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracing,
  traceHeaders,
} from '@tickflow/telemetry';

export interface TracedSend {
  headers: HeaderList;
  /** Ends the span with where the broker stored the message, or the failure. */
  end(err: Error | null, partition: number, offset: number): void;
}

/**
 * The producer side of a message's trace: a `send <topic>` PRODUCER span per sampled message, from
 * the send until the broker's acknowledgement, whose context travels in the message's W3C headers.
 * Unsampled messages get nothing: no span, no headers (the aggregator links only what it finds).
 */
export class SendTracer {
  readonly #tracing: Tracing;
  readonly #name: string;
  readonly #attributes: Attributes;

  constructor(tracing: Tracing, topic: string, clientId: string) {
    this.#tracing = tracing;
    this.#name = `send ${topic}`;
    this.#attributes = {
      [ATTR.messagingSystem]: KAFKA,
      [ATTR.messagingSystemName]: KAFKA,
      [ATTR.messagingOperationName]: 'send',
      [ATTR.messagingOperationType]: 'send',
      [ATTR.messagingDestinationName]: topic,
      [ATTR.messagingClientId]: clientId,
    };
  }

  /** A traced send for this message, or undefined when it is not sampled (the common, free case). */
  start(key: string): TracedSend | undefined {
    if (!this.#tracing.enabled || !this.#tracing.sampleMessage()) return undefined;
    const span: Span = this.#tracing.tracer.startSpan(
      this.#name,
      { kind: SpanKind.PRODUCER, attributes: { ...this.#attributes, [ATTR.kafkaMessageKey]: key } },
      PRESAMPLED_CONTEXT,
    );
    return {
      headers: traceHeaders(span.spanContext()),
      end: (err, partition, offset) => {
        if (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          span.setAttribute(ATTR.errorType, 'delivery_failed');
        } else {
          span.setAttributes({
            [ATTR.messagingDestinationPartitionId]: String(partition),
            [ATTR.messagingKafkaOffset]: offset,
            [ATTR.kafkaOffset]: offset,
          });
        }
        span.end();
      },
    };
  }
}
