#!/usr/bin/env node
import { runEntryPoint } from '@tickflow/telemetry';
import { aggregatorHelp, loadAggregatorConfig } from './config.ts';

/**
 * `tickflow aggregate` and the container entry point of the aggregator. The app module (and with it
 * `pg`) is imported only after tracing is set up: the pg instrumentation hooks `require`, so it must
 * be registered before the driver loads. The CLI imports this file through `@tickflow/aggregator/main`
 * for the same reason.
 */
export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'aggregate',
    help: aggregatorHelp,
    load: loadAggregatorConfig,
    component: 'aggregator',
    tracing: { serviceName: 'tickflow-aggregator', instrumentPg: true },
    run: async (cfg, { log, signal, tracing }) => {
      const { startAggregator } = await import('./app.ts');
      const handle = await startAggregator(cfg, signal, log, tracing);
      await handle.done;
      return 0;
    },
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
