import type { BenchResult, ScenarioResult } from './result.ts';

type Scenario<N extends ScenarioResult['name']> = Extract<ScenarioResult, { name: N }>;

function find<N extends ScenarioResult['name']>(
  scenarios: readonly ScenarioResult[],
  name: N,
): Scenario<N>[] {
  return scenarios.filter((s): s is Scenario<N> => s.name === name);
}

/** The targets on a 2-core machine, evaluated against what was measured (null: not measured). */
export function evaluateTargets(scenarios: readonly ScenarioResult[]): BenchResult['targets'] {
  const max = find(scenarios, 'max-throughput')[0];
  const at20k = find(scenarios, 'fixed-rate').find((s) => s.requestedPerSec === 20_000);
  const limit = find(scenarios, 'kafka-limit')[0];
  const soak = find(scenarios, 'soak')[0];
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
  return [
    {
      target: 'max throughput >= 50,000 msg/s end-to-end, one aggregator',
      value: max ? `${fmt(max.storedPerSec)} msg/s` : 'not measured',
      met: max ? max.storedPerSec >= 50_000 : null,
    },
    {
      target: 'at 20,000 msg/s: p99 <= 10 ms end-to-end',
      value: at20k ? `${fmt(at20k.endToEnd.p99, 2)} ms` : 'not measured',
      met: at20k ? at20k.endToEnd.p99 <= 10 : null,
    },
    {
      target: 'at 20,000 msg/s: mean <= 5.88 ms end-to-end',
      value: at20k ? `${fmt(at20k.endToEnd.mean, 2)} ms` : 'not measured',
      met: at20k ? at20k.endToEnd.mean <= 5.88 : null,
    },
    {
      target: 'throughput >= 50 % of raw kafka-consumer-perf-test',
      value:
        limit?.tickflowShareOfConsume != null
          ? `${fmt(limit.tickflowShareOfConsume * 100, 1)} %`
          : 'not measured',
      met: limit?.tickflowShareOfConsume != null ? limit.tickflowShareOfConsume >= 0.5 : null,
    },
    {
      target: 'soak: RSS growth < 10 % after the first minute',
      value: soak
        ? `${fmt(soak.rssGrowthAfterFirstMinute * 100, 1)} %`
        : 'not measured (run with --soak MINUTES)',
      met: soak ? soak.rssGrowthAfterFirstMinute < 0.1 : null,
    },
  ];
}
