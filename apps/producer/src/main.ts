#!/usr/bin/env node
import { ConfigError } from '@tickflow/config';
import { createLogger, onShutdown } from '@tickflow/telemetry';
import { runProducer } from './app.ts';
import { loadProducerConfig, producerHelp } from './config.ts';

/** `tickflow produce` and the container entry point of the producer. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${producerHelp}\n`);
    return 0;
  }
  const log = createLogger('producer');
  let cfg: ReturnType<typeof loadProducerConfig>;
  try {
    cfg = loadProducerConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickflow produce: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  try {
    const stats = await runProducer(cfg, signal, log);
    return stats.errors > 0 ? 1 : 0;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
