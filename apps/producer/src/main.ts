#!/usr/bin/env node
import { runEntryPoint } from '@tickflow/telemetry';
import { runProducer } from './app.ts';
import { loadProducerConfig, producerHelp } from './config.ts';

/** `tickflow produce` and the container entry point of the producer. */
export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'produce',
    help: producerHelp,
    load: loadProducerConfig,
    component: 'producer',
    tracing: { serviceName: 'tickflow-producer' },
    run: async (cfg, { log, signal, tracing }) => {
      const stats = await runProducer(cfg, signal, log, tracing);
      return stats.errors > 0 ? 1 : 0;
    },
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
