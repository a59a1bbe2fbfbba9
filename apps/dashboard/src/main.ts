#!/usr/bin/env node
import { ConfigError } from '@tickflow/config';
import { createLogger, onShutdown } from '@tickflow/telemetry';
import { startDashboard } from './app.ts';
import { dashboardHelp, loadDashboardConfig } from './config.ts';

/** `tickflow dashboard` and the container entry point of the dashboard. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${dashboardHelp}\n`);
    return 0;
  }
  const log = createLogger('dashboard');
  let cfg: ReturnType<typeof loadDashboardConfig>;
  try {
    cfg = loadDashboardConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tickflow dashboard: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const signal = onShutdown((m) => log.info(m));
  try {
    const handle = await startDashboard(cfg, log);
    log.info(`serving the dashboard at ${handle.url}`, {
      api: `${handle.url}openapi.json`,
      metricsUrls: cfg.metricsUrls.length,
    });
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await handle.close();
    log.info('dashboard stopped');
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
