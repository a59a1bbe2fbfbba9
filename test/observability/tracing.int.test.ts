import { encodeTrade } from '@tickflow/contracts';
import { BatchConsumer, type ConsumedMessage, KafkaProducer } from '@tickflow/kafka';
import { extractTraceContext } from '@tickflow/telemetry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCli, waitFor } from '../support/cli.ts';
import { type IsolatedPipeline, isolatedPipeline } from '../support/isolation.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts';

const PRODUCER = 4;
const CONSUMER = 5;
const COUNT = 300;
const LINK_LIMIT = 8;
const BACKLOG = 100;
// A dead letter produced by "someone else" with its own trace context.
const BAD_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const BAD_SPAN = '00f067aa0ba902b7';

/**
 * Producer and aggregator as separate processes exporting to a real OTLP/HTTP endpoint that decodes the
 * protobuf payload: every message's `send` span is linked from its batch's `process` span, whose trace
 * holds the sink spans (PostgreSQL with the pg instrumentation's query spans, Redis, the DLQ).
 */
describe('traces across processes', () => {
  let iso: IsolatedPipeline;
  let rx: OtlpReceiver;
  let spans: ReceivedSpan[];

  beforeAll(async () => {
    iso = await isolatedPipeline(inject('stack'), 3);
    rx = await startOtlpReceiver();
    const env = {
      ...iso.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1.0',
      OTEL_SPAN_LINK_COUNT_LIMIT: String(LINK_LIMIT),
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    // A backlog first, so the aggregator's first poll is one batch with far more messages than the
    // link cap (whatever the machine's timing), then a live stream.
    const backlog = startCli(['produce', '--rate', 'max', '--count', String(BACKLOG)], env);
    expect((await backlog.exited).code, backlog.output()).toBe(0);
    const agg = startCli(['aggregate'], env);
    try {
      await waitFor('partitions assigned', () => agg.output().includes('partitions assigned'), 60_000);
      // Over ~2 s, so some 1 s bars close while messages still flow (in traced batches).
      const producer = startCli(['produce', '--rate', '150', '--count', String(COUNT - BACKLOG)], env);
      expect((await producer.exited).code, producer.output()).toBe(0);
      await sendDeadLetter(inject('stack').brokers, iso.topics.raw);
      await waitFor(
        'every message linked from a process span',
        () => {
          const linked = new Set(
            rx.spans
              .filter((s) => s.name === `process ${iso.topics.raw}`)
              .flatMap((s) => s.links.map((l) => l.spanId)),
          );
          const sends = rx.spans.filter((s) => s.name === `send ${iso.topics.raw}`);
          const bars = rx.spans.some((s) => s.name === `send ${iso.topics.bars}`);
          return (
            sends.length === COUNT && sends.every((s) => linked.has(s.spanId)) && linked.has(BAD_SPAN) && bars
          );
        },
        120_000,
      );
    } finally {
      agg.child.kill('SIGTERM');
      await agg.exited;
    }
    spans = rx.spans;
  });

  afterAll(async () => {
    await rx?.close();
    await iso?.drop();
  });

  const byId = () => new Map(spans.map((s) => [s.spanId, s]));
  const rootOf = (s: ReceivedSpan, ids: Map<string, ReceivedSpan>) => {
    let cur = s;
    while (cur.parentSpanId && ids.get(cur.parentSpanId)) cur = ids.get(cur.parentSpanId) as ReceivedSpan;
    return cur;
  };

  it("gives each message a producer span with the messaging attributes, in the message's own trace", () => {
    const sends = spans.filter((s) => s.service === 'tickflow-producer');
    expect(sends).toHaveLength(COUNT);
    expect(new Set(sends.map((s) => s.traceId)).size).toBe(COUNT);
    for (const s of sends) {
      expect(s.name).toBe(`send ${iso.topics.raw}`);
      expect(s.kind).toBe(PRODUCER);
      expect(s.parentSpanId).toBeUndefined();
      expect(s.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': iso.topics.raw,
      });
      expect(['0', '1', '2']).toContain(s.attributes['messaging.destination.partition.id']);
      expect(s.attributes['messaging.kafka.offset']).toBeTypeOf('number');
      expect(s.attributes['kafka.message.key']).toMatch(/^[A-Z0-9]/);
    }
  });

  it("links every message from its batch's process span, capping links per span", () => {
    const ids = byId();
    const processSpans = spans.filter((s) => s.name === `process ${iso.topics.raw}`);
    for (const p of processSpans) expect(p.links.length).toBeLessThanOrEqual(LINK_LIMIT);
    // Batches with more linked messages than the cap spread them over child process spans.
    expect(processSpans.some((p) => p.parentSpanId !== undefined)).toBe(true);
    for (const send of spans.filter((s) => s.service === 'tickflow-producer')) {
      const linking = processSpans.filter((p) =>
        p.links.some((l) => l.traceId === send.traceId && l.spanId === send.spanId),
      );
      expect(linking).toHaveLength(1);
      const link = linking[0]?.links.find((l) => l.spanId === send.spanId);
      expect(link?.attributes['messaging.destination.partition.id']).toBe(
        send.attributes['messaging.destination.partition.id'],
      );
      expect(link?.attributes['messaging.kafka.offset']).toBe(send.attributes['messaging.kafka.offset']);
      const batch = rootOf(linking[0] as ReceivedSpan, ids);
      expect(batch.parentSpanId).toBeUndefined();
      expect(batch.kind).toBe(CONSUMER);
      expect(batch.service).toBe('tickflow-aggregator');
      expect(batch.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': iso.topics.raw,
        'messaging.consumer.group.name': iso.group,
      });
      expect(batch.attributes['messaging.batch.message_count']).toBeGreaterThanOrEqual(1);
    }
  });

  it("puts the sink writes into the batch's trace, with the pg instrumentation's query spans below PostgreSQL", () => {
    const ids = byId();
    const batches = spans.filter((s) => s.name === `process ${iso.topics.raw}` && !s.parentSpanId);
    const stored = batches.filter((b) => Number(b.attributes['tickflow.trades.stored']) > 0);
    expect(stored.length).toBeGreaterThan(0);
    for (const b of stored) {
      const children = spans.filter((s) => s.parentSpanId === b.spanId);
      const insert = children.find((s) => s.name === 'INSERT trades');
      const redis = children.find((s) => s.name === 'EVALSHA latest');
      expect(insert?.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.collection.name': 'trades',
      });
      expect(insert?.attributes['db.operation.batch.size']).toBe(b.attributes['tickflow.trades.stored']);
      expect(redis?.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'EVALSHA' });
      for (const s of [insert, redis]) expect(s?.traceId).toBe(b.traceId);
      const queries = spans.filter((s) => s.parentSpanId === insert?.spanId);
      expect(queries.length).toBeGreaterThan(0);
      for (const q of queries) {
        expect(q.traceId).toBe(b.traceId);
        expect(q.attributes['db.system.name'] ?? q.attributes['db.system']).toBe('postgresql');
      }
    }
    // Every span of the aggregator belongs to a batch's trace.
    for (const s of spans.filter((x) => x.service === 'tickflow-aggregator'))
      expect(rootOf(s, ids).name).toBe(`process ${iso.topics.raw}`);
  });

  it("gives the bars a traced batch publishes the trace context of that batch's write", async () => {
    const consumer = await BatchConsumer.connect({
      brokers: inject('stack').brokers,
      groupId: `${iso.group}-bars`,
      clientId: 'tracing-test-bars',
      topics: [iso.topics.bars],
    });
    try {
      const bars: ConsumedMessage[] = [];
      // Bars that close on an empty poll (the watermark advanced by the clock) belong to no batch.
      const traced = await waitFor('a bar with trace context', async () => {
        bars.push(...(await consumer.poll(100, 1000)));
        const withContext = bars.filter((b) => extractTraceContext(b.headers));
        return withContext.length > 0 ? withContext : undefined;
      });
      const ids = byId();
      for (const bar of traced) {
        const ctx = extractTraceContext(bar.headers);
        const span = ids.get(ctx?.spanId ?? '');
        expect(span?.name).toBe(`send ${iso.topics.bars}`);
        expect(span?.traceId).toBe(ctx?.traceId);
        expect(rootOf(span as ReceivedSpan, ids).name).toBe(`process ${iso.topics.raw}`);
      }
    } finally {
      await consumer.close();
    }
  });

  it("sends a dead letter under its batch's trace, linked to the bad message's own context", () => {
    const dlq = spans.filter((s) => s.name === `send ${iso.topics.dlq}`);
    expect(dlq).toHaveLength(1);
    const [span] = dlq as [ReceivedSpan];
    expect(span.kind).toBe(PRODUCER);
    expect(span.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': iso.topics.dlq,
      'messaging.batch.message_count': 1,
    });
    expect(span.links).toEqual([expect.objectContaining({ traceId: BAD_TRACE, spanId: BAD_SPAN })]);
    const batch = byId().get(span.parentSpanId ?? '');
    expect(batch?.name).toBe(`process ${iso.topics.raw}`);
    expect(batch?.attributes['tickflow.dead_letters']).toBe(1);
  });
});

/** An undecodable message carrying a sampled W3C trace context, as a foreign producer would send it. */
async function sendDeadLetter(brokers: string, topic: string): Promise<void> {
  const producer = await KafkaProducer.connect({ brokers, clientId: 'tracing-test' });
  try {
    const valid = Buffer.from(
      encodeTrade({
        symbol: 'BAD',
        price: 1,
        size: 1,
        eventTimeUs: Date.now() * 1000,
        ingestTimeUs: Date.now() * 1000,
        source: 'replay',
        tradeId: 'x',
      }),
    );
    // Truncated: a malformed-protobuf dead letter.
    await producer.sendAll([
      {
        topic,
        key: 'BAD',
        value: valid.subarray(0, valid.length - 3),
        headers: [{ traceparent: `00-${BAD_TRACE}-${BAD_SPAN}-01` }],
      },
    ]);
  } finally {
    await producer.close();
  }
}
