// The operator's part of charts/tickflow (templates/operator-*.yaml, crds/marketdatapipelines.yaml) with
// the values proposed in apps/operator/chart/ merged in: lints and renders with Helm 3 and 4, holds the
// chart's invariants, passes a strict server-side dry-run, and its RBAC is enough: the operator runs as
// the chart's ServiceAccount (a token from the TokenRequest API) and reconciles a pipeline.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ChartWorkspace,
  type ControlPlane,
  ensureKubeTools,
  ensureNamespaces,
  type HelmMajor,
  helm,
  KUBERNETES_VERSION,
  type KubeObject,
  type KubeTools,
  parseManifests,
  prepareCharts,
  startControlPlane,
} from '@tickflow/k8s-harness';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chartInvariantViolations } from '../../../test/k8s/support.ts';
import { applyYaml, eventually, runOperator, tryGetJson } from './support.ts';

const CHARTS_DIR = resolve(import.meta.dirname, '../../../charts');
const VALUES = resolve(import.meta.dirname, '../chart/values-operator.yaml');
const SCHEMA = resolve(import.meta.dirname, '../chart/values-operator.schema.json');
const NS = 'tickflow';

/** The workspace copy of charts/tickflow with the proposed operator values and schema merged in. */
function mergeOperatorValues(ws: ChartWorkspace): void {
  const chart = ws.chart('tickflow');
  writeFileSync(
    join(chart, 'values.yaml'),
    `${readFileSync(join(chart, 'values.yaml'), 'utf8')}\n${readFileSync(VALUES, 'utf8')}`,
  );
  const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
  };
  Object.assign(schema.properties, JSON.parse(readFileSync(SCHEMA, 'utf8')));
  writeFileSync(join(chart, 'values.schema.json'), JSON.stringify(schema, null, 2));
}

const operatorObjects = (objs: KubeObject[]) =>
  objs.filter(
    (o) =>
      o.metadata.labels?.['app.kubernetes.io/component'] === 'operator' ||
      o.kind === 'CustomResourceDefinition',
  );

describe('charts/tickflow: the operator', () => {
  let tools: KubeTools;
  const workspaces = new Map<HelmMajor, ChartWorkspace>();
  let cp: ControlPlane | undefined;
  const stack = inject('stack');

  beforeAll(async () => {
    tools = await ensureKubeTools({ tools: ['helm3', 'helm4', 'kube-apiserver', 'etcd', 'kubectl'] });
    for (const major of [3, 4] as const) {
      const ws = await prepareCharts(tools, major, CHARTS_DIR, ['tickflow']);
      mergeOperatorValues(ws);
      workspaces.set(major, ws);
    }
  }, 60 * 60_000);

  afterAll(async () => {
    for (const ws of workspaces.values()) ws.remove();
    await cp?.stop();
  });

  const render = async (major: HelmMajor, set: string[]) => {
    const ws = workspaces.get(major) as ChartWorkspace;
    const { stdout } = await helm(tools, major, [
      'template',
      'tickflow',
      ws.chart('tickflow'),
      '--namespace',
      NS,
      '--kube-version',
      KUBERNETES_VERSION,
      '--include-crds',
      ...set.flatMap((s) => ['--set', s]),
    ]);
    return parseManifests(stdout);
  };

  for (const major of [3, 4] as const) {
    it(`helm ${major}: lints, renders nothing while disabled, renders the operator when enabled`, async () => {
      const ws = workspaces.get(major) as ChartWorkspace;
      await helm(tools, major, ['lint', '--strict', ws.chart('tickflow'), '--set', 'operator.enabled=true']);
      const off = await render(major, []);
      expect(operatorObjects(off).filter((o) => o.kind !== 'CustomResourceDefinition')).toEqual([]);
      // the CRD ships with the chart either way (crds/ is installed before the templates)
      expect(
        off.some(
          (o) =>
            o.kind === 'CustomResourceDefinition' && o.metadata.name === 'marketdatapipelines.tickflow.dev',
        ),
      ).toBe(true);

      const on = await render(major, ['operator.enabled=true']);
      expect(chartInvariantViolations(on, [])).toEqual([]);
      const kinds = operatorObjects(on)
        .map((o) => `${o.kind}/${o.metadata.name}`)
        .sort();
      expect(kinds).toEqual(
        [
          'APIService/v1beta1.external.metrics.k8s.io',
          'ClusterRole/tickflow-operator',
          'ClusterRole/tickflow-operator-cluster',
          'ClusterRole/tickflow-operator-external-metrics-reader',
          'ClusterRoleBinding/tickflow-operator',
          'ClusterRoleBinding/tickflow-operator-auth-delegator',
          'ClusterRoleBinding/tickflow-operator-cluster',
          'ClusterRoleBinding/tickflow-operator-external-metrics-reader',
          'CustomResourceDefinition/marketdatapipelines.tickflow.dev',
          'Deployment/tickflow-operator',
          'Role/tickflow-operator',
          'RoleBinding/tickflow-operator',
          'RoleBinding/tickflow-operator-auth-reader',
          'Service/tickflow-operator',
          'ServiceAccount/tickflow-operator',
        ].sort(),
      );
      const dep = on.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'tickflow-operator',
      ) as KubeObject;
      const c = (
        dep.spec as {
          template: {
            spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value?: string }> }> };
          };
        }
      ).template.spec.containers[0];
      expect(c?.args).toEqual(['operator']);
      expect(c?.env.find((e) => e.name === 'EXTERNAL_METRICS_SERVICE')?.value).toBe('tickflow-operator');

      // a cluster whose external metrics belong to KEDA: no APIService, no caBundle management
      const keda = await render(major, [
        'operator.enabled=true',
        'operator.externalMetrics.apiService.create=false',
      ]);
      expect(keda.some((o) => o.kind === 'APIService')).toBe(false);
      // one namespace only: namespaced RBAC
      const scoped = await render(major, ['operator.enabled=true', 'operator.watchNamespace=markets']);
      expect(scoped.find((o) => o.kind === 'Role' && o.metadata.namespace === 'markets')).toBeDefined();
      expect(
        scoped.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'tickflow-operator'),
      ).toBeUndefined();
      // the schema rejects unknown or bad operator values
      await expect(
        render(major, ['operator.enabled=true', 'operator.externalMetrics.auth=open']),
      ).rejects.toThrow();
    });
  }

  it('applies on a real API server, and its RBAC is enough for the operator to reconcile as the ServiceAccount', async () => {
    cp = await startControlPlane({ tools });
    const c = cp;
    await ensureNamespaces(c, [NS, 'markets']);
    const objects = operatorObjects(await render(3, ['operator.enabled=true']));
    const crd = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    // what helm install -n tickflow does: namespaced objects without a namespace land in the release's
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'APIService']);
    const rest = objects
      .filter((o) => o.kind !== 'CustomResourceDefinition')
      .map((o) =>
        clusterScoped.has(o.kind) || o.metadata.namespace
          ? o
          : { ...o, metadata: { ...o.metadata, namespace: NS } },
      );
    const yaml = (objs: KubeObject[]) => objs.map((o) => JSON.stringify(o)).join('\n---\n');
    await applyYaml(c, yaml(crd));
    await c.kubectl([
      'wait',
      '--for=condition=Established',
      'crd/marketdatapipelines.tickflow.dev',
      '--timeout=60s',
    ]);
    await c.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: yaml(rest) });
    // everything but the Deployment for real (no kubelet would run it): the operator runs here instead
    await c.kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], {
      input: yaml(rest.filter((o) => o.kind !== 'Deployment')),
    });
    const { stdout: token } = await c.kubectl([
      '-n',
      NS,
      'create',
      'token',
      'tickflow-operator',
      '--duration=1h',
    ]);
    const server = (
      JSON.parse(readFileSync(c.kubeconfigPath, 'utf8')) as {
        clusters: Array<{ cluster: { server: string } }>;
      }
    ).clusters[0]?.cluster.server;
    const kubeconfig = join(tmpdir(), `operator-sa-${process.pid}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server, 'certificate-authority': c.pki.ca.cert } }],
        users: [{ name: 'sa', user: { token: token.trim() } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'sa', namespace: NS } }],
        'current-context': 'c',
      }),
    );
    const op = await runOperator(c, {
      KUBECONFIG: kubeconfig,
      POD_NAMESPACE: NS,
      LEASE_NAME: 'tickflow-operator',
      EXTERNAL_METRICS_SERVICE: 'tickflow-operator',
      EXTERNAL_METRICS_SECRET: 'tickflow-operator-metrics-tls',
    });
    try {
      await applyYaml(
        c,
        `apiVersion: tickflow.dev/v1alpha1
kind: MarketDataPipeline
metadata: { name: rbac, namespace: markets }
spec:
  kafka: { bootstrapServers: ${stack.brokers} }
  topics: { raw: { name: raw-rbac-${process.pid} }, bars: { name: bars-rbac-${process.pid} }, alerts: { name: alerts-rbac-${process.pid} }, dlq: { name: dlq-rbac-${process.pid} } }
  aggregator: { autoscaling: { mode: hpa } }
  redis: { secretName: urls }
  database: { secretName: urls }
`,
      );
      await eventually('objects reconciled as the ServiceAccount', async () => {
        const hpa = await tryGetJson(c, ['-n', 'markets', 'get', 'hpa', 'rbac-aggregator']);
        const m = await tryGetJson<{ status?: { observedGeneration?: number } }>(c, [
          '-n',
          'markets',
          'get',
          'mdp',
          'rbac',
        ]);
        return hpa && m?.status?.observedGeneration === 1;
      });
      // the chart's APIService got the operator's CA; the Lease and the Secret are in the release namespace
      const svc = await tryGetJson<{ spec: { caBundle?: string } }>(c, [
        'get',
        'apiservice',
        'v1beta1.external.metrics.k8s.io',
      ]);
      expect(svc?.spec.caBundle).toBeTruthy();
      expect(await tryGetJson(c, ['-n', NS, 'get', 'lease', 'tickflow-operator'])).toBeDefined();
      expect(op.reconciler.metrics.errors).toBe(0);
    } finally {
      await op.stop();
    }
  });
});
