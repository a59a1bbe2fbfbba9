import type { ConsumedMessage } from '@tickflow/kafka';
import {
  ATTR,
  type Attributes,
  extractTraceContext,
  KAFKA,
  type Link,
  otelContext,
  otelTrace,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracing,
} from '@tickflow/telemetry';
import type { BatchTrace, PipelineTracer, SinkName } from './pipeline.ts';

export interface BatchTracerOptions {
  inputTopic: string;
  group: string;
  clientId: string;
  outputs: { bars: string; alerts: string; deadLetters: string };
}

interface SinkSpec {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  /** Attribute that carries the number of records of the write. */
  countAttribute: string;
}

/**
 * The consumer side of the messages' traces, following the OpenTelemetry messaging conventions for
 * batch processing: one `process <topic>` CONSUMER span per polled batch, linked to the creation
 * context (the producer's `send` span) of every message that carries one, with a child span per sink
 * write (PostgreSQL with the pg instrumentation's query spans below it, Redis, Kafka outputs, the
 * dead-letter queue, which links to the dead-lettered messages). Links per span are capped
 * (OTEL_SPAN_LINK_COUNT_LIMIT): the rest go to extra `process` child spans, so at 100 % sampling
 * every message still links into its batch's trace.
 */
export class KafkaBatchTracer implements PipelineTracer {
  readonly #tracing: Tracing;
  readonly #name: string;
  readonly #base: Attributes;
  readonly #sinks: Record<SinkName, SinkSpec>;

  constructor(tracing: Tracing, opts: BatchTracerOptions) {
    this.#tracing = tracing;
    this.#name = `process ${opts.inputTopic}`;
    this.#base = {
      [ATTR.messagingSystem]: KAFKA,
      [ATTR.messagingSystemName]: KAFKA,
      [ATTR.messagingOperationName]: 'process',
      [ATTR.messagingOperationType]: 'process',
      [ATTR.messagingDestinationName]: opts.inputTopic,
      [ATTR.messagingConsumerGroupName]: opts.group,
      [ATTR.messagingClientId]: opts.clientId,
    };
    const db = (system: string, operation: string, collection: string) => ({
      [ATTR.dbSystemName]: system,
      [ATTR.dbOperationName]: operation,
      [ATTR.dbCollectionName]: collection,
    });
    const send = (topic: string): SinkSpec => ({
      name: `send ${topic}`,
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR.messagingSystem]: KAFKA,
        [ATTR.messagingSystemName]: KAFKA,
        [ATTR.messagingOperationName]: 'send',
        [ATTR.messagingOperationType]: 'send',
        [ATTR.messagingDestinationName]: topic,
      },
      countAttribute: ATTR.messagingBatchMessageCount,
    });
    this.#sinks = {
      'postgres trades': {
        name: 'INSERT trades',
        kind: SpanKind.INTERNAL,
        attributes: db('postgresql', 'INSERT', 'trades'),
        countAttribute: ATTR.dbOperationBatchSize,
      },
      'postgres alerts': {
        name: 'INSERT price_alerts',
        kind: SpanKind.INTERNAL,
        attributes: db('postgresql', 'INSERT', 'price_alerts'),
        countAttribute: ATTR.dbOperationBatchSize,
      },
      'redis latest': {
        name: 'EVALSHA latest',
        kind: SpanKind.CLIENT,
        attributes: db('redis', 'EVALSHA', 'latest'),
        countAttribute: ATTR.dbOperationBatchSize,
      },
      'redis alerts': {
        name: 'PUBLISH alerts',
        kind: SpanKind.CLIENT,
        attributes: db('redis', 'PUBLISH', 'alerts'),
        countAttribute: ATTR.dbOperationBatchSize,
      },
      'kafka bars': send(opts.outputs.bars),
      'kafka alerts': send(opts.outputs.alerts),
      'kafka dead letters': send(opts.outputs.deadLetters),
    };
  }

  startBatch(messages: readonly ConsumedMessage[]): BatchTrace | undefined {
    if (!this.#tracing.enabled) return undefined;
    const limit = this.#tracing.config.linkLimit;
    const links = linksOf(messages);
    const partitions = new Set<number>();
    for (const m of messages) partitions.add(m.partition);
    const attributes: Attributes = {
      ...this.#base,
      [ATTR.messagingBatchMessageCount]: messages.length,
      'tickflow.batch.linked_messages': links.length,
    };
    if (partitions.size === 1)
      attributes[ATTR.messagingDestinationPartitionId] = String(messages[0]?.partition);
    else attributes['tickflow.batch.partitions'] = [...partitions].map(String);
    const tracer = this.#tracing.tracer;
    const span = tracer.startSpan(this.#name, {
      kind: SpanKind.CONSUMER,
      root: true,
      links: links.slice(0, limit),
      attributes,
    });
    // Not sampled (no sampled message in the batch and the ratio said no): nothing more to record.
    if (!span.isRecording()) return undefined;
    const parent = otelTrace.setSpan(otelContext.active(), span);
    for (let from = limit; from < links.length; from += limit) {
      tracer
        .startSpan(
          this.#name,
          {
            kind: SpanKind.CONSUMER,
            links: links.slice(from, from + limit),
            attributes: { ...this.#base, 'tickflow.batch.link_offset': from },
          },
          parent,
        )
        .end();
    }
    return new OtelBatchTrace(span, parent, this.#sinks, this.#tracing, limit);
  }
}

/** Links to the sampled contexts first (they exist in the backend), then the others. */
function linksOf(messages: readonly ConsumedMessage[]): Link[] {
  const sampled: Link[] = [];
  const other: Link[] = [];
  for (const m of messages) {
    if (!m.headers) continue;
    const ctx = extractTraceContext(m.headers);
    if (!ctx) continue;
    const link: Link = {
      context: ctx,
      attributes: {
        [ATTR.messagingDestinationPartitionId]: String(m.partition),
        [ATTR.messagingKafkaOffset]: m.offset,
        [ATTR.kafkaOffset]: m.offset,
      },
    };
    (ctx.traceFlags & TraceFlags.SAMPLED ? sampled : other).push(link);
  }
  return other.length === 0 ? sampled : sampled.concat(other);
}

class OtelBatchTrace implements BatchTrace {
  readonly #span: Span;
  readonly #parent: ReturnType<typeof otelTrace.setSpan>;
  readonly #specs: Record<SinkName, SinkSpec>;
  readonly #tracing: Tracing;
  readonly #limit: number;
  readonly #open = new Map<SinkName, Span>();
  readonly #attempts = new Map<SinkName, number>();

  constructor(
    span: Span,
    parent: ReturnType<typeof otelTrace.setSpan>,
    specs: Record<SinkName, SinkSpec>,
    tracing: Tracing,
    limit: number,
  ) {
    this.#span = span;
    this.#parent = parent;
    this.#specs = specs;
    this.#tracing = tracing;
    this.#limit = limit;
  }

  async sink<T>(
    sink: SinkName,
    records: number,
    run: () => Promise<T>,
    messages?: readonly ConsumedMessage[],
  ): Promise<T> {
    const spec = this.#specs[sink];
    const span = this.#tracing.tracer.startSpan(
      spec.name,
      {
        kind: spec.kind,
        attributes: { ...spec.attributes, [spec.countAttribute]: records, 'tickflow.sink': sink },
        ...(messages ? { links: linksOf(messages).slice(0, this.#limit) } : {}),
      },
      this.#parent,
    );
    this.#open.set(sink, span);
    this.#attempts.set(sink, 1);
    try {
      // Active for the write, so the pg instrumentation's query spans become its children.
      return await otelContext.with(otelTrace.setSpan(this.#parent, span), run);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.setAttribute('tickflow.sink.attempts', this.#attempts.get(sink) ?? 1);
      span.end();
      this.#open.delete(sink);
    }
  }

  retry(sink: SinkName, attempt: number, err: Error): void {
    this.#open.get(sink)?.addEvent('retry', { attempt, 'exception.message': err.message });
    this.#attempts.set(sink, attempt + 1);
  }

  end(result: { stored: number; fresh: number; deadLetters: number } | undefined, err?: unknown): void {
    if (result) {
      this.#span.setAttributes({
        'tickflow.trades.stored': result.stored,
        'tickflow.trades.fresh': result.fresh,
        'tickflow.dead_letters': result.deadLetters,
      });
    }
    if (err) {
      this.#span.recordException(err as Error);
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    }
    this.#span.end();
  }
}
