import { context, propagation, type Tracer, trace } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from './logger.ts';
import type { TracingConfig } from './tracing-config.ts';

export interface TracingStats {
  /** Spans the exporter delivered, and export calls that failed (their spans are lost). */
  exportedSpans: number;
  failedExports: number;
}

export interface Tracing {
  readonly enabled: boolean;
  readonly config: TracingConfig;
  /** A no-op tracer when tracing is off (the API's default). */
  readonly tracer: Tracer;
  readonly stats: TracingStats;
  /**
   * Per-message sampling decision of the producer, drawn with the configured ratio before any span
   * exists; start the span in PRESAMPLED_CONTEXT when true. Always false when tracing is off.
   */
  sampleMessage(): boolean;
  /** Flushes buffered spans (bounded wait: an unreachable collector must not hold up an exit). */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface StartTracingOptions {
  log: Logger;
  /** Instrument the `pg` client (its query spans become children of the active span). */
  instrumentPg?: boolean;
  version?: string;
}

const NOOP_STATS: TracingStats = Object.freeze({ exportedSpans: 0, failedExports: 0 });

/**
 * Sets up the OpenTelemetry trace SDK (v3) for this process from `cfg`: W3C propagation,
 * AsyncLocalStorage context, the Tickflow sampler, a batch processor and an OTLP exporter
 * (http/protobuf or grpc, endpoint and headers from OTEL_EXPORTER_OTLP_*). When tracing is off
 * nothing is loaded: the SDK packages are imported here, on demand.
 *
 * `instrumentPg` must run before `pg` is first loaded (the instrumentation hooks `require`), which is
 * why the aggregator imports its app module only after this resolves.
 */
export async function startTracing(cfg: TracingConfig, opts: StartTracingOptions): Promise<Tracing> {
  if (!cfg.enabled) {
    return {
      enabled: false,
      config: cfg,
      tracer: trace.getTracer('tickflow'),
      stats: NOOP_STATS,
      sampleMessage: () => false,
      shutdown: async () => undefined,
    };
  }
  const [
    sdk,
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    resources,
    { TickflowSampler },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('./sampler.ts'),
  ]);
  const stats: TracingStats = { exportedSpans: 0, failedExports: 0 };
  const inner: SpanExporter =
    cfg.exporter === 'console'
      ? new sdk.ConsoleSpanExporter()
      : cfg.protocol === 'grpc'
        ? new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter()
        : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const exporter = countingExporter(inner, stats, opts.log);
  const resource = resources
    .resourceFromAttributes({ 'service.name': cfg.serviceName, 'service.version': opts.version ?? '0.1.0' })
    .merge(
      resources.detectResources({
        detectors: [resources.processDetector, resources.hostDetector, resources.envDetector],
      }),
    );
  const provider = new sdk.TracerProvider({
    resource,
    sampler: new TickflowSampler(cfg.ratio, cfg.parentBased),
    spanLimits: { linkCountLimit: cfg.linkLimit },
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, ...cfg.batch })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (opts.instrumentPg) {
    const [{ registerInstrumentations }, { PgInstrumentation }] = await Promise.all([
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-pg'),
    ]);
    // requireParentSpan: only queries of a traced batch get spans (no orphan root per query).
    registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true })],
    });
  }
  opts.log.info('tracing on', {
    service: cfg.serviceName,
    exporter: cfg.exporter === 'console' ? 'console' : `otlp ${cfg.protocol}`,
    sampler: `${cfg.parentBased ? 'parentbased_' : ''}traceidratio ${cfg.ratio}`,
  });
  const ratio = cfg.ratio;
  return {
    enabled: true,
    config: cfg,
    tracer: provider.getTracer('tickflow', opts.version ?? '0.1.0'),
    stats,
    sampleMessage: ratio >= 1 ? () => true : ratio <= 0 ? () => false : () => Math.random() < ratio,
    shutdown: async (timeoutMs = 5000) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/** Counts what reaches the collector; logs the first failed export and then every 100th. */
function countingExporter(inner: SpanExporter, stats: TracingStats, log: Logger): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        if (result.code === 0) stats.exportedSpans += spans.length;
        else {
          stats.failedExports++;
          if (stats.failedExports % 100 === 1)
            log.warn('trace export failed; spans dropped', {
              failedExports: stats.failedExports,
              error: result.error?.message,
            });
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
