import { ConfigError } from '@tickflow/config';
import { createLogger, type Logger } from './logger.ts';
import { onShutdown } from './shutdown.ts';
import { startTracing, type Tracing } from './tracing.ts';
import { type TracingConfig, TracingConfigError, tracingConfigFromEnv } from './tracing-config.ts';

interface EntryPointBase<C> {
  /** The subcommand, as in `tickflow <command>`: it prefixes the configuration error message. */
  command: string;
  /** Printed on stdout for `--help`/`-h` (with a final newline when it has none). */
  help: string;
  /** Loads and validates the configuration from argv and the environment; throws ConfigError. */
  load(argv: readonly string[]): C;
}

/** A command (migrate, up, bench): keeps the default signal handling and handles its own failures. */
export interface CommandEntryPoint<C> extends EntryPointBase<C> {
  run(cfg: C): Promise<number>;
}

export interface ServiceContext {
  log: Logger;
  /** Aborted by the first SIGINT/SIGTERM (see onShutdown): drain and return. */
  signal: AbortSignal;
}

/** A long-running service: gets a logger and a shutdown signal; a failure of `run` is logged, exit 1. */
export interface ServiceEntryPoint<C> extends EntryPointBase<C> {
  /** The logger's component. */
  component: string;
  run(cfg: C, ctx: ServiceContext): Promise<number>;
}

/** A service that also traces, configured from the OTEL_* environment (validated with the flags). */
export interface TracedServiceEntryPoint<C> extends EntryPointBase<C> {
  component: string;
  tracing: { serviceName: string; instrumentPg?: boolean };
  run(cfg: C, ctx: ServiceContext & { tracing: Tracing }): Promise<number>;
}

/**
 * The start-up every entry point shares (the `tickflow` subcommands and the containers' mains):
 * `--help`/`-h` prints the help and exits 0; a configuration error (ConfigError, TracingConfigError)
 * is printed as `tickflow <command>: <message>` on stderr and exits 2 before anything connects;
 * otherwise `run` returns the exit code. Services are set up in this order: logger, shutdown signal,
 * tracing (shut down after `run`, also when it fails).
 */
export function runEntryPoint<C>(argv: readonly string[], ep: TracedServiceEntryPoint<C>): Promise<number>;
export function runEntryPoint<C>(argv: readonly string[], ep: ServiceEntryPoint<C>): Promise<number>;
export function runEntryPoint<C>(argv: readonly string[], ep: CommandEntryPoint<C>): Promise<number>;
export async function runEntryPoint<C>(
  argv: readonly string[],
  ep: CommandEntryPoint<C> | ServiceEntryPoint<C> | TracedServiceEntryPoint<C>,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(ep.help.endsWith('\n') ? ep.help : `${ep.help}\n`);
    return 0;
  }
  let cfg: C;
  let tracingCfg: TracingConfig | undefined;
  try {
    cfg = ep.load(argv);
    if ('tracing' in ep) tracingCfg = tracingConfigFromEnv(process.env, ep.tracing.serviceName);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TracingConfigError) {
      process.stderr.write(`tickflow ${ep.command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (!('component' in ep)) return ep.run(cfg);
  const log = createLogger(ep.component);
  const signal = onShutdown((m) => log.info(m));
  const tracing =
    'tracing' in ep
      ? await startTracing(tracingCfg as TracingConfig, { log, instrumentPg: ep.tracing.instrumentPg })
      : undefined;
  try {
    return await ('tracing' in ep
      ? ep.run(cfg, { log, signal, tracing: tracing as Tracing })
      : ep.run(cfg, { log, signal }));
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  } finally {
    await tracing?.shutdown();
  }
}
