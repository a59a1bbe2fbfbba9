import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from '@tickflow/stack';
import { runEntryPoint } from '@tickflow/telemetry';
import { type BenchConfig, benchHelp, loadBenchConfig } from './config.ts';
import { BenchContext } from './context.ts';
import { machineFacts } from './machine.ts';
import { renderMarkdown } from './markdown.ts';
import { planFor } from './plan.ts';
import { type BenchResult, benchResultSchema, type ScenarioResult } from './result.ts';
import { warmUpBroker } from './scenarios/broker-warm-up.ts';
import { fixedRate } from './scenarios/fixed-rate.ts';
import { kafkaLimit } from './scenarios/kafka-limit.ts';
import { soak } from './scenarios/soak.ts';
import { maxThroughput, scaleOut } from './scenarios/throughput.ts';
import { tracingOverhead } from './scenarios/tracing.ts';
import { transportFloor } from './scenarios/transport-floor.ts';
import { evaluateTargets, LATENCY_TARGET_RATE } from './targets.ts';

export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'bench',
    help: benchHelp,
    load: loadBenchConfig,
    run: (cfg) => bench(cfg, argv),
  });
}

async function bench(cfg: BenchConfig, argv: readonly string[]): Promise<number> {
  const plan = planFor(cfg);
  const log = (m: string) => process.stdout.write(`${m}\n`);
  const startedAt = new Date().toISOString();
  log('provisioning the local stack (Kafka, Redis, PostgreSQL)...');
  const stack = await startStack({
    database: cfg.database,
    kafka: true,
    redis: true,
    kafkaOptions: { heap: '1g' },
  });
  const scenarios: ScenarioResult[] = [];
  try {
    const ctx = new BenchContext(stack, plan, log);
    await warmUpBroker(ctx, plan.quick ? 3 : 20);
    let maxRate = 0;
    if (cfg.scenarios.includes('max') || cfg.scenarios.includes('kafka') || cfg.scenarios.includes('scale')) {
      const max = await maxThroughput(ctx);
      scenarios.push(max);
      maxRate = max.name === 'max-throughput' ? max.storedPerSec : 0;
    }
    if (cfg.scenarios.includes('latency'))
      for (const rate of plan.rates) scenarios.push(await fixedRate(ctx, rate));
    if (cfg.scenarios.includes('floor')) scenarios.push(await transportFloor(ctx, LATENCY_TARGET_RATE));
    if (cfg.scenarios.includes('kafka')) scenarios.push(await kafkaLimit(ctx, maxRate));
    if (cfg.scenarios.includes('scale')) scenarios.push(await scaleOut(ctx, maxRate));
    if (cfg.scenarios.includes('tracing')) scenarios.push(await tracingOverhead(ctx, plan.tracingLevels));
    if (plan.soakMinutes > 0) scenarios.push(await soak(ctx, plan.soakMinutes));
  } finally {
    await stack.stop();
  }
  const result: BenchResult = benchResultSchema.parse({
    schema: 'tickflow.bench/v1',
    startedAt,
    command: ['tickflow', 'bench', ...argv].join(' '),
    aggregatorNodeArgs: plan.aggregatorNodeArgs,
    quick: cfg.quick,
    machine: machineFacts({
      kafka: stack.kafka?.version ?? 'unknown',
      postgres: stack.database.version,
      redis: stack.redis?.version ?? 'unknown',
    }),
    scenarios,
    targets: evaluateTargets(scenarios),
  });
  const files = writeResults(result, cfg.out);
  const md = renderMarkdown(result);
  log(`\n${md}`);
  log(`results: ${files.join(', ')}`);
  return 0;
}

/** `latest` (or `quick`) files to commit, plus a timestamped copy kept out of git. */
export function writeResults(result: BenchResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = result.quick ? 'quick' : 'latest';
  const stamp = result.startedAt.replaceAll(':', '').replace(/\..*/, '');
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const md = renderMarkdown(result);
  const files = [
    join(dir, `${base}.json`),
    join(dir, `${base}.md`),
    join(dir, `history/${base}-${stamp}.json`),
  ];
  mkdirSync(join(dir, 'history'), { recursive: true });
  writeFileSync(files[0] as string, json);
  writeFileSync(files[1] as string, md);
  writeFileSync(files[2] as string, json);
  return files;
}
