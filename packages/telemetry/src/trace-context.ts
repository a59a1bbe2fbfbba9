import {
  type Context,
  createContextKey,
  createTraceState,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * W3C Trace Context in Kafka headers, by hand: the confluent client has no OpenTelemetry
 * instrumentation. Formatting is one template string and parsing a few slices, cheaper than the
 * generic propagator's carrier getters/setters on the producer's hot path.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** Kafka headers as librdkafka takes and returns them: a list of single-entry objects. */
export type HeaderList = Array<Record<string, string | Buffer>>;

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export function formatTraceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The headers that carry `ctx` (tracestate only when there is one). */
export function traceHeaders(ctx: SpanContext): HeaderList {
  const headers: HeaderList = [{ [TRACEPARENT]: formatTraceparent(ctx) }];
  const state = ctx.traceState?.serialize();
  if (state) headers.push({ [TRACESTATE]: state });
  return headers;
}

/** A remote span context from a `traceparent` value, or undefined when it is not a valid one. */
export function parseTraceparent(value: string, tracestate?: string): SpanContext | undefined {
  // version-traceid-spanid-flags; future versions may append fields after another '-'.
  if (value.length < 55 || value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff' || (version === '00' && value.length !== 55)) return undefined;
  if (value.length > 55 && value[55] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const ctx: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
  if (tracestate) ctx.traceState = createTraceState(tracestate);
  return ctx;
}

const text = (v: string | Buffer) => (typeof v === 'string' ? v : v.toString('latin1'));

/** The trace context a Kafka message carries, or undefined (no or malformed headers). */
export function extractTraceContext(headers: HeaderList | undefined): SpanContext | undefined {
  if (!headers || headers.length === 0) return undefined;
  let parent: string | undefined;
  let state: string | undefined;
  for (const h of headers) {
    const p = h[TRACEPARENT];
    if (p !== undefined && parent === undefined) parent = text(p);
    const s = h[TRACESTATE];
    if (s !== undefined && state === undefined) state = text(s);
  }
  return parent === undefined ? undefined : parseTraceparent(parent, state);
}

/** Context key read by the Tickflow sampler: the caller already drew the sampling decision. */
export const PRESAMPLED_KEY = createContextKey('tickflow.presampled');

/**
 * The context to start a span in when the caller already drew the sampling decision with the same
 * ratio (the producer does, per message, so an unsampled message costs one Math.random() and no span,
 * no ids, no context). Created once; contexts are immutable.
 */
export const PRESAMPLED_CONTEXT: Context = ROOT_CONTEXT.setValue(PRESAMPLED_KEY, true);

/**
 * Headers carrying the active span's context (e.g. a sink span around Kafka output writes), or
 * undefined when nothing is being traced: then records go out without trace headers.
 */
export function activeTraceHeaders(): HeaderList | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? traceHeaders(span.spanContext()) : undefined;
}
