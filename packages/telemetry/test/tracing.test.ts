import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { TickflowSampler } from '../src/sampler.ts';
import {
  extractTraceContext,
  formatTraceparent,
  type HeaderList,
  PRESAMPLED_CONTEXT,
  parseTraceparent,
  traceHeaders,
} from '../src/trace-context.ts';
import { TracingConfigError, tracingConfigFromEnv } from '../src/tracing-config.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('tracing configuration from OTEL_* variables', () => {
  it('is off without an exporter or endpoint, and costs nothing then', () => {
    const cfg = tracingConfigFromEnv({}, 'tickflow-producer');
    expect(cfg).toMatchObject({
      enabled: false,
      serviceName: 'tickflow-producer',
      ratio: 1,
      parentBased: true,
    });
  });

  it('turns on with an OTLP endpoint: http/protobuf, parent-based ratio from OTEL_TRACES_SAMPLER_ARG', () => {
    const cfg = tracingConfigFromEnv(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.01',
        OTEL_SERVICE_NAME: 'agg-a',
        OTEL_SPAN_LINK_COUNT_LIMIT: '64',
      },
      'tickflow-aggregator',
    );
    expect(cfg).toMatchObject({
      enabled: true,
      exporter: 'otlp',
      protocol: 'http/protobuf',
      ratio: 0.01,
      parentBased: true,
      serviceName: 'agg-a',
      linkLimit: 64,
    });
  });

  it('reads the protocol, the exporter list, the samplers and OTEL_SDK_DISABLED', () => {
    const on = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4317/v1/traces' };
    expect(tracingConfigFromEnv({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'x').protocol).toBe('grpc');
    expect(
      tracingConfigFromEnv(
        { ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' },
        'x',
      ).protocol,
    ).toBe('http/protobuf');
    expect(tracingConfigFromEnv({ ...on, OTEL_SDK_DISABLED: 'true' }, 'x').enabled).toBe(false);
    expect(tracingConfigFromEnv({ ...on, OTEL_TRACES_EXPORTER: 'none' }, 'x').enabled).toBe(false);
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'console' }, 'x')).toMatchObject({
      enabled: true,
      exporter: 'console',
    });
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }, 'x')).toMatchObject({
      enabled: true,
      exporter: 'otlp',
    });
    expect(tracingConfigFromEnv({ ...on, OTEL_TRACES_SAMPLER: 'always_off' }, 'x').ratio).toBe(0);
    expect(tracingConfigFromEnv({ ...on, OTEL_TRACES_SAMPLER: 'always_on' }, 'x')).toMatchObject({
      ratio: 1,
      parentBased: false,
    });
    expect(
      tracingConfigFromEnv(
        { ...on, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1%' },
        'x',
      ),
    ).toMatchObject({
      ratio: 0.01,
      parentBased: false,
    });
  });

  it('names every bad variable at once', () => {
    const bad = () =>
      tracingConfigFromEnv(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_TRACES_SAMPLER_ARG: '2',
          OTEL_SPAN_LINK_COUNT_LIMIT: '0',
          OTEL_TRACES_EXPORTER: 'zipkin',
        },
        'x',
      );
    expect(bad).toThrow(TracingConfigError);
    try {
      bad();
    } catch (err) {
      const msg = (err as Error).message;
      for (const v of [
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        'OTEL_TRACES_SAMPLER:',
        'OTEL_SPAN_LINK_COUNT_LIMIT',
        'OTEL_TRACES_EXPORTER',
      ])
        expect(msg).toContain(v);
    }
    expect(() =>
      tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER_ARG: 'lots' }, 'x'),
    ).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('W3C trace context in Kafka headers', () => {
  const ctx = { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED };

  it('formats and parses traceparent, round trip, with tracestate', () => {
    expect(formatTraceparent(ctx)).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(formatTraceparent({ ...ctx, traceFlags: TraceFlags.NONE })).toBe(`00-${TRACE}-${SPAN}-00`);
    const parsed = parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'vendor=a,other=b');
    expect(parsed).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(parsed?.traceState?.get('vendor')).toBe('a');
    const headers = traceHeaders({
      ...ctx,
      ...(parsed?.traceState ? { traceState: parsed.traceState } : {}),
    });
    expect(headers).toEqual([{ traceparent: `00-${TRACE}-${SPAN}-01` }, { tracestate: 'vendor=a,other=b' }]);
    expect(traceHeaders(ctx)).toEqual([{ traceparent: `00-${TRACE}-${SPAN}-01` }]);
  });

  it('rejects malformed values rather than linking garbage', () => {
    for (const bad of [
      '',
      '00-abc',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase().replace(/[0-9]/g, 'Z')}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE}-${SPAN}-0g`,
    ])
      expect(parseTraceparent(bad), bad).toBeUndefined();
    // A future version may append fields.
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`)?.traceId).toBe(TRACE);
  });

  it('extracts from librdkafka header lists, string or Buffer values, among other headers', () => {
    expect(extractTraceContext(undefined)).toBeUndefined();
    expect(extractTraceContext([{ 'x-dlq-reason': 'oversized' }])).toBeUndefined();
    const h: HeaderList = [
      { 'x-other': 'v' },
      { traceparent: Buffer.from(`00-${TRACE}-${SPAN}-01`) },
      { tracestate: 'k=v' },
    ];
    const got = extractTraceContext(h);
    expect(got).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
    expect(got?.traceState?.serialize()).toBe('k=v');
    expect(extractTraceContext([{ traceparent: '00-abc' }])).toBeUndefined();
  });
});

describe('TickflowSampler', () => {
  const sampled = {
    context: { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true },
  };
  const unsampled = { context: { ...sampled.context, traceFlags: TraceFlags.NONE } };
  const decide = (s: TickflowSampler, ctx = ROOT_CONTEXT, links: Array<typeof sampled> = []) =>
    s.shouldSample(ctx, TRACE, 'x', SpanKind.INTERNAL, {}, links).decision;

  it('trusts a decision the caller already drew (the producer, per message)', () => {
    expect(decide(new TickflowSampler(0), PRESAMPLED_CONTEXT)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('follows the parent', () => {
    const parentOn = trace.setSpanContext(ROOT_CONTEXT, sampled.context);
    const parentOff = trace.setSpanContext(ROOT_CONTEXT, unsampled.context);
    expect(decide(new TickflowSampler(0), parentOn)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new TickflowSampler(1), parentOff)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples a root batch span that links a sampled message, whatever the ratio', () => {
    expect(decide(new TickflowSampler(0), ROOT_CONTEXT, [unsampled, sampled])).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(new TickflowSampler(0), ROOT_CONTEXT, [unsampled])).toBe(SamplingDecision.NOT_RECORD);
    // Not parent-based (traceidratio, always_on): links and parents do not count.
    expect(decide(new TickflowSampler(0, false), ROOT_CONTEXT, [sampled])).toBe(SamplingDecision.NOT_RECORD);
  });

  it('applies the ratio to roots without sampled links', () => {
    expect(decide(new TickflowSampler(1))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(new TickflowSampler(0))).toBe(SamplingDecision.NOT_RECORD);
    expect(new TickflowSampler(0.5).toString()).toContain('ratio=0.5');
  });
});
