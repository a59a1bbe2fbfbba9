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
  let tracingCfg: TracingConfig;
  try {
    cfg = loadProducerConfig(argv);
    tracingCfg = tracingConfigFromEnv(process.env, 'tickflow-producer');
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TracingConfigError) {
      process.stderr.write(`tickflow produce: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  const tracing = await startTracing(tracingCfg, { log });
  try {
    const stats = await runProducer(cfg, signal, log, tracing);
    return stats.errors > 0 ? 1 : 0;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  } finally {
    await tracing.shutdown();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
