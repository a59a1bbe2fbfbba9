import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CHART_DIR = fileURLToPath(new URL('../../charts/tickflow/', import.meta.url));

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ refId: string; expr: string }>;
  panels?: Panel[];
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export function loadDashboards(): Array<{
  file: string;
  json: { uid: string; title: string; panels: Panel[] };
}> {
  const dir = `${CHART_DIR}dashboards/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(dir + file, 'utf8')) }));
}

/** Every PromQL target of every panel, rows' nested panels included. */
export function dashboardQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (dashboard: string, panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ dashboard, panel: p.title, refId: t.refId, expr: t.expr });
      if (p.panels) walk(dashboard, p.panels);
    }
  };
  for (const d of loadDashboards()) walk(d.json.title, d.json.panels);
  return out;
}

/**
 * The query Grafana would send with every template variable on "All": interval variables get a
 * fixed window, every other variable the match-all regex (an absent label matches `.*` too, so the
 * `namespace` selectors also match a local Prometheus without that label).
 */
export function instantiate(expr: string): string {
  return expr
    .replace(/\$\{?__rate_interval\}?/g, '1m')
    .replace(/\$\{?__interval\}?/g, '15s')
    .replace(/\$\{?__range\}?/g, '5m')
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}/g, '.*')
    .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, '.*');
}
