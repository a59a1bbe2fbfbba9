// The Helm charts (charts/tickflow with its dependencies charts/redis and charts/timescaledb),
// validated with Helm 3 and Helm 4 and on a real kube-apiserver:
//  - `helm lint --strict` of every chart, and of charts/tickflow with every values file;
//  - `helm template` of every values file, then `kubectl apply --dry-run=server --validate=strict`
//    of the result (API server defaulting, OpenAPI and CRD schemas, unknown fields, admission);
//  - invariants the API server cannot know (probes on real endpoints, grace > drain, selectors
//    that select, references that resolve, hardening) on every rendering;
//  - Helm 3 and Helm 4 render the same objects;
//  - values.schema.json (and the charts' checks) reject the broken values files in fixtures/.
// Tools and CRDs are provisioned on first use (ensureKubeTools/ensureCrds): slow once, then cached.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregatorNodeOptions } from '@tickflow/aggregator/node-options';
import {
  applyServerDryRun,
  type ChartWorkspace,
  type ControlPlane,
  ensureCrds,
  ensureKubeTools,
  type HelmMajor,
  helm,
  installCrds,
  type KubeTools,
  parseManifests,
  prepareCharts,
  startControlPlane,
} from '@tickflow/k8s-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHARTS_DIR,
  chartInvariantViolations,
  declaredExistingSecrets,
  find,
  HELM_MAJORS,
  K8S_DIR,
  NAMESPACE,
  normalizeForComparison,
  ownCrdFiles,
  PROMETHEUS_OPERATOR_CRDS,
  podTemplate,
  RELEASE,
  readYaml,
  renderTickflow,
  TOOLS_TIMEOUT,
  tickflowValuesFiles,
  valuesLabel,
} from './support.ts';

const VALUES = tickflowValuesFiles();
const BAD_VALUES_DIR = join(import.meta.dirname, 'fixtures', 'bad-values');
const BAD_VALUES = readdirSync(BAD_VALUES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

let tools: KubeTools;
let cp: ControlPlane;
const workspaces = new Map<HelmMajor, ChartWorkspace>();
/** rendered manifests by `${major}:${values}` */
const rendered = new Map<string, string>();
const key = (major: HelmMajor, values: string | null) => `${major}:${valuesLabel(values)}`;

beforeAll(async () => {
  tools = await ensureKubeTools();
  const crds = await ensureCrds();
  cp = await startControlPlane({ tools });
  // our own CRDs (charts/*/crds, installed for real: the API server validates them on creation),
  // and prometheus-operator's for the chart's optional ServiceMonitors/PodMonitors/PrometheusRules
  await installCrds(cp, [
    ...ownCrdFiles(),
    ...crds.prometheusOperator.filter((f) => PROMETHEUS_OPERATOR_CRDS.test(f)),
  ]);
  // the real namespaces (k8s/namespaces.yaml): `tickflow` enforces the restricted Pod Security
  // Standard and warns on violations, which the dry-runs below must not produce
  // (a client-side apply, as a user would: a later client-side dry-run then finds its annotation)
  await cp.kubectl(['apply', '-f', join(K8S_DIR, 'namespaces.yaml')]);
  for (const major of HELM_MAJORS)
    workspaces.set(major, await prepareCharts(tools, major, CHARTS_DIR, ['tickflow']));
}, TOOLS_TIMEOUT);

afterAll(async () => {
  for (const ws of workspaces.values()) ws.remove();
  await cp?.stop();
});

describe.each(HELM_MAJORS)('Helm %i', (major) => {
  it('reports its version', async () => {
    const { stdout } = await helm(tools, major, ['version', '--short']);
    expect(stdout.trim()).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('lints every chart with --strict (redis and timescaledb standalone, with persistence on and off)', async () => {
    const ws = workspaces.get(major) as ChartWorkspace;
    for (const chart of ['redis', 'timescaledb']) {
      await helm(tools, major, ['lint', '--strict', ws.chart(chart)]);
      await helm(tools, major, ['lint', '--strict', ws.chart(chart), '--set', 'persistence.enabled=false']);
    }
  });

  it.each(VALUES.map((v) => [valuesLabel(v), v] as const))(
    'lints and renders charts/tickflow with %s',
    async (_, values) => {
      const ws = workspaces.get(major) as ChartWorkspace;
      const chart = ws.chart('tickflow');
      await helm(tools, major, ['lint', '--strict', chart, ...(values ? ['-f', join(chart, values)] : [])]);
      const out = await renderTickflow(tools, major, ws, values);
      expect(parseManifests(out).length).toBeGreaterThan(5);
      rendered.set(key(major, values), out);
    },
  );

  it.each(BAD_VALUES)('rejects fixtures/bad-values/%s', async (file) => {
    const path = join(BAD_VALUES_DIR, file);
    const expected = readFileSync(path, 'utf8').match(/^# rejects: (.+)$/m)?.[1];
    expect(expected, `${file} needs a '# rejects: <regex>' line`).toBeDefined();
    const ws = workspaces.get(major) as ChartWorkspace;
    const attempt = helm(tools, major, ['template', RELEASE, ws.chart('tickflow'), '-f', path]);
    await expect(attempt).rejects.toThrow(new RegExp(expected as string));
  });
});

describe('rendered manifests on a real API server', () => {
  it.each(HELM_MAJORS.flatMap((m) => VALUES.map((v) => [m, valuesLabel(v), v] as const)))(
    'Helm %i, %s: server-side dry-run accepts every object',
    async (major, _, values) => {
      const out = rendered.get(key(major, values));
      expect(out, 'rendered by the lint/render test').toBeDefined();
      const result = await applyServerDryRun(cp, out as string, { namespace: NAMESPACE });
      expect(result.output).not.toMatch(/error|invalid|unknown field|warning/i);
      expect(result.ok, result.output).toBe(true);
      const count = parseManifests(out as string).length;
      expect(result.output.split('\n').filter((l) => /\(server dry run\)/.test(l))).toHaveLength(count);
    },
  );

  it('rejects a broken object, so the dry-run is a real check (unknown field, bad probe port)', async () => {
    const out = rendered.get(key(4, null)) as string;
    const broken = out.replace('terminationGracePeriodSeconds:', 'terminationGracePeriodSecondz:');
    const result = await applyServerDryRun(cp, broken, { namespace: NAMESPACE });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/terminationGracePeriodSecondz/);
  });
});

describe('rendered manifests hold the chart invariants', () => {
  it.each(VALUES.map((v) => [valuesLabel(v), v] as const))('%s', (_, values) => {
    const out = rendered.get(key(4, values)) as string;
    const objects = parseManifests(out);
    const valuesDoc = values ? readYaml(join(CHARTS_DIR, 'tickflow', values)) : {};
    expect(chartInvariantViolations(objects, declaredExistingSecrets(valuesDoc))).toEqual([]);
  });

  it('Helm 3 and Helm 4 render the same objects', () => {
    for (const values of VALUES) {
      const three = normalizeForComparison(rendered.get(key(3, values)) as string);
      const four = normalizeForComparison(rendered.get(key(4, values)) as string);
      expect(four, valuesLabel(values)).toEqual(three);
    }
  });

  it('defaults: bundled Redis and TimescaleDB, migrations after install, aggregators migrating too', () => {
    const objects = parseManifests(rendered.get(key(4, null)) as string);
    const job = find(objects, 'Job', '-migrate');
    expect(job?.metadata.annotations?.['helm.sh/hook']).toBe('post-install,pre-upgrade');
    expect(find(objects, 'StatefulSet', '-redis')).toBeDefined();
    expect(find(objects, 'StatefulSet', '-timescaledb')).toBeDefined();
    const aggregator = podTemplate(find(objects, 'Deployment', '-aggregator') as never)?.spec.containers[0];
    const env = Object.fromEntries((aggregator?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.MIGRATE_ON_START).toBe('true');
    expect(env.NODE_OPTIONS).toBe(aggregatorNodeOptions(undefined));
    expect(env.REDIS_URL).toBe(`redis://:$(REDIS_PASSWORD)@${RELEASE}-redis.${NAMESPACE}.svc:6379`);
    expect(env.DATABASE_URL).toBe(
      `postgres://tickflow:$(DATABASE_PASSWORD)@${RELEASE}-timescaledb.${NAMESPACE}.svc:5432/tickflow`,
    );
    const config = find(objects, 'ConfigMap', '-config')?.data as Record<string, string>;
    expect(config).toMatchObject({
      KAFKA_BROKERS: 'tickflow-kafka-bootstrap.kafka.svc:9092',
      KAFKA_GROUP_ID: 'tickflow-aggregators',
      TOPIC_RAW: 'raw-market-data',
      TOPIC_BARS: 'aggregated-metrics',
      TOPIC_ALERTS: 'price-alerts',
      TOPIC_DLQ: 'dead-letter-queue',
      REDIS_PREFIX: 'tickflow:',
    });
    expect(find(objects, 'PodDisruptionBudget', '-aggregator')?.spec).toMatchObject({ maxUnavailable: 1 });
    const dashboards = objects.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    );
    // one ConfigMap per charts/tickflow/dashboards/*.json
    const files = readdirSync(join(CHARTS_DIR, 'tickflow', 'dashboards')).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    expect(dashboards.map((d) => d.metadata.name).sort()).toEqual(
      files.map((f) => `${RELEASE}-dashboard-${f.replace(/\.json$/, '')}`).sort(),
    );
  });

  it('external services: a pre-install migration hook with its own hook Secret, URLs from existing Secrets', () => {
    const objects = parseManifests(rendered.get(key(4, 'ci/external-services-values.yaml')) as string);
    expect(find(objects, 'StatefulSet', '-redis')).toBeUndefined();
    expect(find(objects, 'StatefulSet', '-timescaledb')).toBeUndefined();
    const job = find(objects, 'Job', '-migrate') as NonNullable<ReturnType<typeof find>>;
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const hookSecret = find(objects, 'Secret', '-migrate');
    expect(hookSecret?.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(hookSecret?.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
      Number(job.metadata.annotations?.['helm.sh/hook-weight']),
    );
    const aggregator = podTemplate(find(objects, 'Deployment', '-aggregator') as never)?.spec.containers[0];
    const redisUrl = aggregator?.env?.find((e) => e.name === 'REDIS_URL');
    expect(redisUrl?.valueFrom).toEqual({ secretKeyRef: { name: 'tickflow-managed', key: 'REDIS_URL' } });
    expect(aggregator?.env?.find((e) => e.name === 'MIGRATE_ON_START')?.value).toBe('false');
    expect(objects.filter((o) => o.kind === 'PodMonitor')).toHaveLength(3);
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(0);
  });
});
