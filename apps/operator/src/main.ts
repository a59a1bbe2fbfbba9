#!/usr/bin/env node
import { ConfigError } from '@tickflow/config';
import { createLogger, onShutdown } from '@tickflow/telemetry';
import { startOperator } from './app.ts';
import { loadOperatorConfig, type OperatorConfig, operatorHelp } from './config.ts';

/** `tickflow operator` and the container entry point of the operator. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(operatorHelp);
    return 0;
  }
  const log = createLogger('operator');
  let cfg: OperatorConfig;
  try {
    cfg = loadOperatorConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickflow operator: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  try {
    const op = await startOperator(cfg, log);
    log.info('operator started', {
      metricsPort: op.metricsPort,
      externalMetricsPort: op.externalMetricsPort ?? 'off',
    });
    signal.addEventListener('abort', () => void op.stop(), { once: true });
    return await op.done;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
