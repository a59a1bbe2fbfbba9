/** Pure helpers of the tracing scenario (unit-tested without services). */

export interface TracingLevel {
  /** As given: `off`, `1%`, `100%`, `0.05`... */
  label: string;
  /** Sampling ratio, or null for tracing off (no OTEL endpoint: the SDK is not even loaded). */
  ratio: number | null;
}

/** `off,1%,100%` -> levels; ratios as percentages or fractions within 0..1. */
export function parseTracingLevels(text: string): TracingLevel[] {
  const levels = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((label): TracingLevel => {
      if (label.toLowerCase() === 'off') return { label: 'off', ratio: null };
      const ratio = label.endsWith('%') ? Number(label.slice(0, -1)) / 100 : Number(label);
      if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
        throw new RangeError(`tracing level '${label}' is not off, a percentage (1%) or a ratio within 0..1`);
      return { label, ratio };
    });
  if (levels.length === 0) throw new RangeError('no tracing levels given');
  return levels;
}

/** The OTEL_* environment of a run at `level`, exporting to `endpoint` (http/protobuf). */
export function tracingEnv(level: TracingLevel, endpoint: string): Record<string, string> {
  if (level.ratio === null) return { OTEL_SDK_DISABLED: 'true' };
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(level.ratio),
  };
}

/** Relative change of `value` over `base` (0.08 = 8 % slower), null without a base. */
export function overhead(base: number, value: number): number | null {
  return base > 0 ? (value - base) / base : null;
}
