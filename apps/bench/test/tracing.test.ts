import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/markdown.ts';
import { benchResultSchema, type ScenarioResult } from '../src/result.ts';
import { evaluateTargets } from '../src/targets.ts';
import { overhead, parseTracingLevels, tracingEnv } from '../src/tracing-levels.ts';
import { benchResultOf } from './fixtures.ts';

const lat = (p99: number) => ({
  count: 1000,
  mean: p99 / 2,
  p50: p99 / 3,
  p90: p99 / 2,
  p99,
  p999: p99 * 1.5,
  max: p99 * 2,
});

describe('tracing levels', () => {
  it('parses off, percentages and ratios', () => {
    expect(parseTracingLevels('off,1%,100%')).toEqual([
      { label: 'off', ratio: null },
      { label: '1%', ratio: 0.01 },
      { label: '100%', ratio: 1 },
    ]);
    expect(parseTracingLevels(' OFF , 0.25 ')).toEqual([
      { label: 'off', ratio: null },
      { label: '0.25', ratio: 0.25 },
    ]);
    expect(() => parseTracingLevels('150%')).toThrow(RangeError);
    expect(() => parseTracingLevels('often')).toThrow(/not off/);
    expect(() => parseTracingLevels(' , ')).toThrow(/no tracing levels/);
  });

  it('maps a level to the OTEL_* environment of both processes', () => {
    expect(tracingEnv({ label: 'off', ratio: null }, 'http://x')).toEqual({ OTEL_SDK_DISABLED: 'true' });
    expect(tracingEnv({ label: '1%', ratio: 0.01 }, 'http://127.0.0.1:1')).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    });
  });

  it('computes the relative overhead', () => {
    expect(overhead(4, 5)).toBeCloseTo(0.25);
    expect(overhead(4, 3)).toBeCloseTo(-0.25);
    expect(overhead(0, 3)).toBeNull();
  });
});

describe('tracing scenario result', () => {
  const run = (level: string, ratio: number | null, p99: number, requests: number) => ({
    level,
    ratio,
    producedPerSec: 20000,
    storedPerSec: 19990,
    endToEnd: lat(p99),
    exportRequests: requests,
    exportBytes: requests * 2048,
  });
  const tracing: ScenarioResult = {
    name: 'tracing',
    requestedPerSec: 20000,
    runs: [run('off', null, 8, 0), run('1%', 0.01, 8.4, 70), run('100%', 1, 14, 900)],
  };
  const result = benchResultOf([tracing], 'tickflow bench --scenarios tracing');

  it('validates, evaluates the 1 % target against tracing off and renders the table', () => {
    expect(benchResultSchema.parse(result)).toEqual(result);
    const t = result.targets.find((x) => x.target.startsWith('tracing at 1 %'));
    expect(t).toMatchObject({ met: true, value: '8.4 ms vs 8 ms (+5 %)' });
    const slow = evaluateTargets([{ ...tracing, runs: [run('off', null, 8, 0), run('1%', 0.01, 12, 70)] }]);
    expect(slow.find((x) => x.target.startsWith('tracing'))?.met).toBe(false);
    expect(evaluateTargets([]).find((x) => x.target.startsWith('tracing'))?.met).toBeNull();
    const md = renderMarkdown(result);
    expect(md).toContain('## Tracing overhead at 20,000 msg/s');
    expect(md).toContain('| off | 20,000 | 19,990 | 2.67 | 8.00 | 12.00 | 4.00 | – | 0 | 0 |');
    expect(md).toContain('| 100% | 20,000 | 19,990 | 4.67 | 14.00 | 21.00 | 7.00 | +75.0 % | 900 | 1,800 |');
  });
});
