#!/usr/bin/env node
import { ConfigError } from '@tickflow/config';
import { createLogger, onShutdown } from '@tickflow/telemetry';
import { startAggregator } from './app.ts';
import { aggregatorHelp, loadAggregatorConfig } from './config.ts';

/** `tickflow aggregate` and the container entry point of the aggregator. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${aggregatorHelp}\n`);
    return 0;
  }
  const log = createLogger('aggregator');
  let cfg: ReturnType<typeof loadAggregatorConfig>;
  try {
    cfg = loadAggregatorConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickflow aggregate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  try {
    const handle = await startAggregator(cfg, signal, log);
    await handle.done;
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
