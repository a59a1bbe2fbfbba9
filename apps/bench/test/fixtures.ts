import type { BenchResult, ScenarioResult } from '../src/result.ts';
import { evaluateTargets } from '../src/targets.ts';

/** A whole bench result around `scenarios`, with their targets evaluated, as the bench writes it. */
export function benchResultOf(scenarios: ScenarioResult[], command = 'tickflow bench'): BenchResult {
  return {
    schema: 'tickflow.bench/v1',
    startedAt: '2026-11-22T07:00:00.000Z',
    command,
    quick: false,
    machine: {
      cpu: 'x',
      cores: 2,
      memoryGiB: 24,
      node: '24.21.0',
      kafka: '4.1.1',
      postgres: '15.18',
      redis: '7.0.15',
      os: 'Linux',
    },
    scenarios,
    targets: evaluateTargets(scenarios),
  };
}
