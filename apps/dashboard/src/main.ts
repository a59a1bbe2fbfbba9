#!/usr/bin/env node
import { runEntryPoint } from '@tickflow/telemetry';
import { startDashboard } from './app.ts';
import { dashboardHelp, loadDashboardConfig } from './config.ts';

/** `tickflow dashboard` and the container entry point of the dashboard. */
export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'dashboard',
    help: dashboardHelp,
    load: loadDashboardConfig,
    component: 'dashboard',
    run: async (cfg, { log, signal }) => {
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
    },
  });
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
