#!/usr/bin/env node
import { runEntryPoint } from '@tickflow/telemetry';
import { startOperator } from './app.ts';
import { loadOperatorConfig, operatorHelp } from './config.ts';

/** `tickflow operator` and the container entry point of the operator. */
export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'operator',
    help: operatorHelp,
    load: loadOperatorConfig,
    component: 'operator',
    run: async (cfg, { log, signal }) => {
      const op = await startOperator(cfg, log);
      log.info('operator started', {
        metricsPort: op.metricsPort,
        externalMetricsPort: op.externalMetricsPort ?? 'off',
      });
      signal.addEventListener('abort', () => void op.stop(), { once: true });
      return await op.done;
    },
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
