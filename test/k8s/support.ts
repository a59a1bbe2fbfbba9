// Shared by the Kubernetes packaging tests (test/k8s/*.int.test.ts): paths, chart rendering, and the
// invariants every rendered manifest set must hold (beyond what the API server validates).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ChartWorkspace,
  describeObject,
  type HelmMajor,
  helm,
  KUBERNETES_VERSION,
  type KubeObject,
  type KubeTools,
  parseManifests,
} from '@tickflow/k8s-harness';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHARTS_DIR = join(ROOT, 'charts');
export const K8S_DIR = join(ROOT, 'k8s');
export const TOOLS_TIMEOUT = 120 * 60_000;
export const RELEASE = 'tickflow';
export const NAMESPACE = 'tickflow';
export const HELM_MAJORS: readonly HelmMajor[] = [3, 4];

/** Values files of charts/tickflow to lint, render and dry-run: null = the chart's defaults only. */
export function tickflowValuesFiles(): Array<string | null> {
  const chart = join(CHARTS_DIR, 'tickflow');
  const ci = readdirSync(join(chart, 'ci'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `ci/${f}`);
  return [null, 'values-kind.yaml', 'values-gke.yaml', ...ci];
}

export function valuesLabel(file: string | null): string {
  return file ?? 'values.yaml (defaults)';
}

/** Our own CRDs: every charts/<chart>/crds/*.yaml (Helm installs them before the templates). */
export function ownCrdFiles(): string[] {
  return readdirSync(CHARTS_DIR).flatMap((chart) => {
    const dir = join(CHARTS_DIR, chart, 'crds');
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(dir, f))
      : [];
  });
}

/** prometheus-operator CRDs our manifests may use (the big Prometheus/Alertmanager ones are left out). */
export const PROMETHEUS_OPERATOR_CRDS = /_(servicemonitors|podmonitors|prometheusrules|probes)\.yaml$/;

export function readYaml(path: string): Record<string, unknown> {
  return (parse(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
}

/** `helm template` of charts/tickflow (from a prepared workspace) with one values file. */
export async function renderTickflow(
  tools: KubeTools,
  major: HelmMajor,
  ws: ChartWorkspace,
  valuesFile: string | null,
  extraArgs: readonly string[] = [],
): Promise<string> {
  const chart = ws.chart('tickflow');
  const args = ['template', RELEASE, chart, '--namespace', NAMESPACE, '--kube-version', KUBERNETES_VERSION];
  if (valuesFile) args.push('-f', join(chart, valuesFile));
  const { stdout } = await helm(tools, major, [...args, ...extraArgs]);
  return stdout;
}

type Json = Record<string, unknown>;
type Container = {
  name: string;
  image?: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: Json }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  livenessProbe?: Json;
  readinessProbe?: Json;
  startupProbe?: Json;
};
type PodSpec = {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{ labelSelector?: { matchLabels?: Record<string, string> } }>;
};
type PodTemplate = {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
};

export function podTemplate(obj: KubeObject): PodTemplate | undefined {
  const spec = obj.spec as Json | undefined;
  if (!spec) return undefined;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(obj.kind))
    return spec.template as PodTemplate;
  return undefined;
}

export function find(objects: KubeObject[], kind: string, nameSuffix: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
}

function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function durationSeconds(value: string): number {
  const m = value.match(/^(\d+)(ms|s|m|h)?$/);
  if (!m) throw new Error(`not a duration: ${value}`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
}

/**
 * What must hold for every rendering of charts/tickflow; returns the violations (empty = fine).
 * `externalSecrets`: Secret names the values file says exist outside the chart (existingSecret).
 */
export function chartInvariantViolations(
  objects: KubeObject[],
  externalSecrets: readonly string[],
): string[] {
  const problems: string[] = [];
  const names = (kind: string) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const configMaps = names('ConfigMap');
  const secrets = names('Secret');
  const workloads = objects.filter((o) => podTemplate(o));

  for (const w of workloads) {
    const where = describeObject(w);
    const tpl = podTemplate(w) as PodTemplate;
    const pod = tpl.spec;
    if (pod.securityContext?.runAsNonRoot !== true)
      problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
    const all = [...(pod.initContainers ?? []), ...pod.containers];
    for (const c of all) {
      const at = `${where} container ${c.name}`;
      const sc = c.securityContext;
      if (sc?.allowPrivilegeEscalation !== false)
        problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc?.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
      if (!sc?.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities are not all dropped`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
        problems.push(`${at}: no cpu/memory requests`);
      if (!c.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
      // $(VAR) in env values must refer to a variable defined earlier (or by envFrom)
      const defined = new Set<string>();
      for (const from of c.envFrom ?? []) {
        const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
        for (const key of Object.keys((cm?.data as Json | undefined) ?? {})) defined.add(key);
      }
      for (const e of c.env ?? []) {
        for (const ref of e.value?.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g) ?? []) {
          if (!defined.has(ref[1] as string))
            problems.push(`${at}: env ${e.name} refers to $(${ref[1]}) before it is defined`);
        }
        defined.add(e.name);
        const cmRef =
          (e.valueFrom?.configMapKeyRef as { name: string; key: string } | undefined) ?? undefined;
        if (cmRef) {
          const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === cmRef.name);
          if (!cm) problems.push(`${at}: env ${e.name} refers to missing ConfigMap ${cmRef.name}`);
          else if (!(cm.data as Json | undefined)?.[cmRef.key])
            problems.push(`${at}: ConfigMap ${cmRef.name} has no key ${cmRef.key}`);
        }
        const secretRef = e.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
        if (secretRef && !secrets.has(secretRef.name) && !externalSecrets.includes(secretRef.name)) {
          problems.push(
            `${at}: env ${e.name} refers to Secret ${secretRef.name}, neither rendered nor declared existing`,
          );
        }
        if (secretRef && secrets.has(secretRef.name)) {
          const s = objects.find(
            (o) => o.kind === 'Secret' && o.metadata.name === secretRef.name,
          ) as KubeObject;
          const keys = {
            ...((s.data as Json | undefined) ?? {}),
            ...((s.stringData as Json | undefined) ?? {}),
          };
          if (!(secretRef.key in keys))
            problems.push(`${at}: Secret ${secretRef.name} has no key ${secretRef.key}`);
        }
      }
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !configMaps.has(from.configMapRef.name))
          problems.push(`${at}: envFrom missing ConfigMap`);
      }
    }

    // the pipeline's own components: probes on the real health endpoints of a declared port
    const component = tpl.metadata.labels?.['app.kubernetes.io/component'];
    if (w.kind === 'Deployment' && ['producer', 'aggregator', 'dashboard'].includes(component ?? '')) {
      const c = pod.containers[0] as Container;
      const portNames = new Set((c.ports ?? []).map((p) => p.name));
      const probe = (p: Json | undefined) => p?.httpGet as { path: string; port: string } | undefined;
      const live = probe(c.livenessProbe);
      const ready = probe(c.readinessProbe);
      const startup = probe(c.startupProbe);
      if (live?.path !== '/healthz') problems.push(`${where}: liveness probe is not GET /healthz`);
      if (ready?.path !== '/readyz') problems.push(`${where}: readiness probe is not GET /readyz`);
      if (startup?.path !== '/healthz') problems.push(`${where}: startup probe is not GET /healthz`);
      for (const p of [live, ready, startup]) {
        if (p && !portNames.has(p.port))
          problems.push(`${where}: probe port ${p.port} is not a container port`);
      }
      if (
        c.args?.[0] !==
        { producer: 'produce', aggregator: 'aggregate', dashboard: 'dashboard' }[component as string]
      ) {
        problems.push(`${where}: runs \`tickflow ${c.args?.[0]}\``);
      }
      if (!tpl.metadata.annotations?.['checksum/config'])
        problems.push(`${where}: no checksum/config annotation (no rollout on config change)`);
      for (const tsc of pod.topologySpreadConstraints ?? []) {
        if (!matches(tsc.labelSelector?.matchLabels, tpl.metadata.labels))
          problems.push(`${where}: a topology spread selector misses its own pods`);
      }
    }
    if (component === 'aggregator') {
      const c = pod.containers[0] as Container;
      const drain = c.env?.find((e) => e.name === 'SHUTDOWN_TIMEOUT')?.value;
      if (!drain) problems.push(`${where}: no SHUTDOWN_TIMEOUT`);
      else if ((pod.terminationGracePeriodSeconds ?? 30) <= durationSeconds(drain)) {
        problems.push(
          `${where}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} is not longer than the drain ${drain}`,
        );
      }
    }
  }

  // Services, PDBs and monitors select pods that exist, on ports those pods declare
  const podsOf = (selector: Record<string, string> | undefined) =>
    workloads.filter((w) => matches(selector, (podTemplate(w) as PodTemplate).metadata.labels));
  const portNamesOf = (ws: KubeObject[]) =>
    new Set(
      ws.flatMap((w) =>
        (podTemplate(w) as PodTemplate).spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)),
      ),
    );
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const spec = svc.spec as {
      selector?: Record<string, string>;
      ports: Array<{ name: string; targetPort: string | number }>;
    };
    const targets = podsOf(spec.selector);
    if (targets.length === 0) {
      problems.push(`${describeObject(svc)}: selects no pods`);
      continue;
    }
    const ports = portNamesOf(targets);
    for (const p of spec.ports) {
      if (typeof p.targetPort === 'string' && !ports.has(p.targetPort))
        problems.push(`${describeObject(svc)}: targetPort ${p.targetPort} not on its pods`);
    }
  }
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const sel = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    if (podsOf(sel).length === 0) problems.push(`${describeObject(pdb)}: selects no pods`);
  }
  for (const mon of objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor')) {
    const spec = mon.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints?: Array<{ port: string }>;
      podMetricsEndpoints?: Array<{ port: string }>;
    };
    if (mon.kind === 'ServiceMonitor') {
      const svcs = objects.filter(
        (o) => o.kind === 'Service' && matches(spec.selector.matchLabels, o.metadata.labels),
      );
      const ports = new Set(
        svcs.flatMap((s) => (s.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)),
      );
      if (svcs.length === 0) problems.push(`${describeObject(mon)}: selects no Service`);
      for (const e of spec.endpoints ?? [])
        if (!ports.has(e.port)) problems.push(`${describeObject(mon)}: port ${e.port} not on its Services`);
    } else {
      const pods = podsOf(spec.selector.matchLabels);
      if (pods.length === 0) problems.push(`${describeObject(mon)}: selects no pods`);
      const ports = portNamesOf(pods);
      for (const e of spec.podMetricsEndpoints ?? [])
        if (!ports.has(e.port)) problems.push(`${describeObject(mon)}: port ${e.port} not on its pods`);
    }
  }
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard)) {
    for (const [key, text] of Object.entries((cm.data as Record<string, string>) ?? {})) {
      try {
        const dash = JSON.parse(text) as { uid?: string; title?: string; panels?: unknown[] };
        if (!dash.uid || !dash.title || !dash.panels?.length)
          problems.push(`${describeObject(cm)}: ${key} lacks uid/title/panels`);
      } catch (error) {
        problems.push(`${describeObject(cm)}: ${key} is not JSON: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}

/** Secret names a values file declares as existing outside the chart. */
export function declaredExistingSecrets(values: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'existingSecret' && typeof v === 'string' && v) out.push(v);
        else walk(v);
      }
    }
  };
  walk(values);
  return out;
}

/** Objects with Secret data (random passwords) and checksum annotations masked, to compare two renderings. */
export function normalizeForComparison(text: string): KubeObject[] {
  return parseManifests(text).map((o) => {
    const copy = structuredClone(o) as Record<string, unknown>;
    if (copy.kind === 'Secret') {
      for (const field of ['data', 'stringData']) {
        if (copy[field]) copy[field] = Object.keys(copy[field] as object).sort();
      }
    }
    return JSON.parse(
      JSON.stringify(copy, (key, value) => (key.startsWith('checksum/') ? '<checksum>' : value)),
    ) as KubeObject;
  });
}
