/**
 * Tracing settings from the standard OpenTelemetry environment variables, validated up front so a
 * typo stops the app at start-up naming the variable (the SDK itself would silently fall back).
 *
 * Tracing is ON only when an exporter is asked for: OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER (other than `none`) is set, and
 * OTEL_SDK_DISABLED is not `true`. The specification's default (export to localhost:4318) would make
 * every local run retry a collector that is not there; off costs nothing on the hot path.
 */
export interface TracingConfig {
  enabled: boolean;
  serviceName: string;
  exporter: 'otlp' | 'console';
  protocol: 'http/protobuf' | 'grpc';
  /** Share of new traces sampled, 0..1 (messages at the producer, batches without sampled links). */
  ratio: number;
  /** Follow the parent's (and, for batches, the linked messages') sampling decision. */
  parentBased: boolean;
  /** Links kept per span; a batch with more linked messages spreads them over child spans. */
  linkLimit: number;
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
  };
}

export class TracingConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'TracingConfigError';
    this.problems = problems;
  }
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT,
 * OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL, OTEL_TRACES_SAMPLER(_ARG), OTEL_SPAN_LINK_COUNT_LIMIT and
 * OTEL_BSP_*. Endpoint, headers, timeout and TLS variables are read by the OTLP exporters themselves.
 */
export function tracingConfigFromEnv(env: Env, defaultServiceName: string): TracingConfig {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const disabled = get('OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false')
    problems.push(`OTEL_SDK_DISABLED must be true or false, got '${disabled}'`);

  const exporters = (get('OTEL_TRACES_EXPORTER') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const named = exporters.filter((e) => e !== '');
  for (const e of named)
    if (!['otlp', 'console', 'none'].includes(e))
      problems.push(`OTEL_TRACES_EXPORTER: '${e}' is not supported (otlp, console or none)`);
  const endpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const exporter: TracingConfig['exporter'] =
    named.includes('console') && !named.includes('otlp') ? 'console' : 'otlp';
  const asked = named.length > 0 ? !named.every((e) => e === 'none') : endpoint !== undefined;

  const protocolRaw =
    get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? get('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  if (protocolRaw !== 'http/protobuf' && protocolRaw !== 'grpc')
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL: '${protocolRaw}' is not supported (http/protobuf, the default, or grpc)`,
    );
  const protocol = protocolRaw === 'grpc' ? 'grpc' : 'http/protobuf';

  const samplerRaw = (get('OTEL_TRACES_SAMPLER') ?? 'parentbased_traceidratio').toLowerCase();
  const sampler = (SAMPLERS as readonly string[]).includes(samplerRaw) ? samplerRaw : undefined;
  if (!sampler) problems.push(`OTEL_TRACES_SAMPLER: '${samplerRaw}' is not one of ${SAMPLERS.join(', ')}`);
  let ratio = 1;
  if (sampler?.endsWith('always_off')) ratio = 0;
  else if (sampler?.endsWith('traceidratio')) {
    const arg = get('OTEL_TRACES_SAMPLER_ARG');
    if (arg !== undefined) {
      const n = Number(arg.endsWith('%') ? Number(arg.slice(0, -1)) / 100 : arg);
      if (!Number.isFinite(n) || n < 0 || n > 1)
        problems.push(`OTEL_TRACES_SAMPLER_ARG must be a ratio within 0..1 (e.g. 0.01), got '${arg}'`);
      else ratio = n;
    }
  }

  const int = (name: string, fallback: number, min: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name} must be an integer >= ${min}, got '${v}'`);
      return fallback;
    }
    return n;
  };
  const linkLimit = int('OTEL_SPAN_LINK_COUNT_LIMIT', 128, 1);
  // Larger than the specification's defaults (2048 / 512 / 5 s): at 100 % sampling the producer
  // starts one span per message, tens of thousands a second, and a full queue drops spans.
  const batch = {
    maxQueueSize: int('OTEL_BSP_MAX_QUEUE_SIZE', 65_536, 1),
    maxExportBatchSize: int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 4096, 1),
    scheduledDelayMillis: int('OTEL_BSP_SCHEDULE_DELAY', 1000, 0),
    exportTimeoutMillis: int('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize)
    problems.push('OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not exceed OTEL_BSP_MAX_QUEUE_SIZE');
  if (problems.length > 0) throw new TracingConfigError(problems);

  return {
    enabled: disabled !== 'true' && asked,
    serviceName: get('OTEL_SERVICE_NAME') ?? defaultServiceName,
    exporter,
    protocol,
    ratio,
    parentBased: sampler?.startsWith('parentbased_') ?? true,
    linkLimit,
    batch,
  };
}
