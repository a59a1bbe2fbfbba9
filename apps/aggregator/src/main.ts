#!/usr/bin/env node
import { ConfigError } from '@tickflow/config';
import {
  createLogger,
  onShutdown,
  startTracing,
  type TracingConfig,
  TracingConfigError,
  tracingConfigFromEnv,
} from '@tickflow/telemetry';
import { aggregatorHelp, loadAggregatorConfig } from './config.ts';

/**
 * `tickflow aggregate` and the container entry point of the aggregator. The app module (and with it
 * `pg`) is imported only after tracing is set up: the pg instrumentation hooks `require`, so it must
 * be registered before the driver loads. The CLI imports this file through `@tickflow/aggregator/main`
 * for the same reason.
 */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${aggregatorHelp}\n`);
    return 0;
  }
  const log = createLogger('aggregator');
  let cfg: ReturnType<typeof loadAggregatorConfig>;
  let tracingCfg: TracingConfig;
  try {
    cfg = loadAggregatorConfig(argv);
    tracingCfg = tracingConfigFromEnv(process.env, 'tickflow-aggregator');
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TracingConfigError) {
      process.stderr.write(`tickflow aggregate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  const tracing = await startTracing(tracingCfg, { log, instrumentPg: true });
  try {
    const { startAggregator } = await import('./app.ts');
    const handle = await startAggregator(cfg, signal, log, tracing);
    await handle.done;
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  } finally {
    await tracing.shutdown();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
