// Helm 3 and Helm 4 on charts of this repo: dependency build, lint, template. Charts are copied to a
// temp dir first, so `helm dependency build` never writes charts/*.tgz or Chart.lock into the work tree.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCommand } from '@tickflow/stack';
import type { KubeTools } from './tools.ts';

export type HelmMajor = 3 | 4;

export function helmBinary(tools: KubeTools, major: HelmMajor): string {
  return major === 3 ? tools.helm3 : tools.helm4;
}

/** Runs helm with an isolated HOME-less config (no repositories, no plugins, no registry logins). */
export function helm(
  tools: KubeTools,
  major: HelmMajor,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
) {
  const home = join(tmpdir(), `tickflow-helm${major}-home`);
  return runCommand(helmBinary(tools, major), args, {
    cwd: opts.cwd,
    timeoutMs: opts.timeoutMs ?? 120_000,
    env: {
      ...process.env,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
      HELM_PLUGINS: join(home, 'plugins'),
      KUBECONFIG: join(home, 'no-kubeconfig'),
    },
  });
}

export interface ChartWorkspace {
  /** Root of the copy: the charts directory's children live here under their own names. */
  root: string;
  /** Path of a chart inside the copy. */
  chart(name: string): string;
  remove(): void;
}

/**
 * Copies a charts directory (all sibling charts, so file://../x dependencies resolve) to a temp dir
 * and runs `helm dependency build` on the charts that have dependencies, with the given helm.
 */
export async function prepareCharts(
  tools: KubeTools,
  major: HelmMajor,
  chartsDir: string,
  withDependencies: readonly string[],
): Promise<ChartWorkspace> {
  const root = mkdtempSync(join(tmpdir(), `tickflow-charts-h${major}-`));
  cpSync(chartsDir, join(root, basename(chartsDir)), {
    recursive: true,
    filter: (src) => !/\/charts\/[^/]+\/charts\/[^/]+\.tgz$/.test(src) && !src.endsWith('Chart.lock'),
  });
  const base = join(root, basename(chartsDir));
  const ws: ChartWorkspace = {
    root: base,
    chart: (name) => join(base, name),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  try {
    for (const name of withDependencies) await helm(tools, major, ['dependency', 'build', ws.chart(name)]);
  } catch (error) {
    ws.remove();
    throw error;
  }
  return ws;
}
