// Everything in k8s/: each file is either Kubernetes manifests, applied with a server-side dry-run
// to a real kube-apiserver that has Strimzi's (kafka.strimzi.io/v1, generated from Strimzi's Maven
// Central artifacts) and prometheus-operator's CRDs installed, or values for a remote Helm chart,
// checked for structure. Plus the cross-file facts: the topics are the contract's, topic
// replication fits the node pools, the chart's default broker address is this Kafka's bootstrap.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  applyServerDryRun,
  type ControlPlane,
  describeObject,
  ensureCrds,
  ensureKubeTools,
  installCrds,
  type KubeObject,
  parseManifestFile,
  parseManifests,
  STRIMZI_VERSION,
  startControlPlane,
} from '@tickflow/k8s-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CHARTS_DIR,
  K8S_DIR,
  ownCrdFiles,
  PROMETHEUS_OPERATOR_CRDS,
  ROOT,
  readYaml,
  TOOLS_TIMEOUT,
} from './support.ts';

const CONTRACT_TOPICS = ['raw-market-data', 'aggregated-metrics', 'price-alerts', 'dead-letter-queue'];

/** Values files of remote Helm charts (not manifests), with the top-level keys we allow in each. */
const HELM_VALUES: Record<string, { chart: string; keys: string[] }> = {
  'strimzi/values.yaml': {
    chart: `oci://quay.io/strimzi-helm/strimzi-kafka-operator ${STRIMZI_VERSION}`,
    keys: [
      'watchNamespaces',
      'watchAnyNamespace',
      'resources',
      'dashboards',
      'featureGates',
      'logLevel',
      'fullReconciliationIntervalMs',
    ],
  },
  'monitoring/kube-prometheus-stack-values.yaml': {
    chart: 'prometheus-community/kube-prometheus-stack',
    keys: [
      'prometheus',
      'grafana',
      'alertmanager',
      'kubeControllerManager',
      'kubeScheduler',
      'kubeEtcd',
      'kubeProxy',
      'prometheusOperator',
    ],
  },
  'monitoring/kube-prometheus-stack-kind-values.yaml': {
    chart: 'prometheus-community/kube-prometheus-stack',
    keys: ['prometheus', 'grafana'],
  },
  'monitoring/kube-prometheus-stack-gke-values.yaml': {
    chart: 'prometheus-community/kube-prometheus-stack',
    keys: ['prometheus', 'grafana', 'alertmanager'],
  },
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    })
    .sort();
}

const FILES = yamlFiles(K8S_DIR).map((f) => relative(K8S_DIR, f));
const MANIFEST_FILES = FILES.filter((f) => !(f in HELM_VALUES));

let cp: ControlPlane;

beforeAll(async () => {
  const tools = await ensureKubeTools({ tools: ['kube-apiserver', 'etcd', 'kubectl'] });
  const crds = await ensureCrds();
  cp = await startControlPlane({ tools, aggregation: false });
  await installCrds(cp, [
    ...crds.strimzi,
    ...crds.prometheusOperator.filter((f) => PROMETHEUS_OPERATOR_CRDS.test(f)),
    // our own (charts/*/crds): k8s/ may hold samples of our custom resources
    ...ownCrdFiles(),
  ]);
  // namespaced objects can only be dry-run into namespaces that exist
  // (a client-side apply, as a user would: a later client-side dry-run then finds its annotation)
  await cp.kubectl(['apply', '-f', join(K8S_DIR, 'namespaces.yaml')]);
}, TOOLS_TIMEOUT);

afterAll(async () => {
  await cp?.stop();
});

describe('k8s/', () => {
  it('holds only manifests and known Helm values files', () => {
    for (const file of MANIFEST_FILES) {
      const objects = parseManifestFile(join(K8S_DIR, file));
      expect(objects.length, `${file} has no Kubernetes objects`).toBeGreaterThan(0);
    }
    for (const file of Object.keys(HELM_VALUES)) expect(FILES).toContain(file);
  });

  it.each(MANIFEST_FILES)('%s: server-side dry-run accepts every object', async (file) => {
    const text = readFileSync(join(K8S_DIR, file), 'utf8');
    const result = await applyServerDryRun(cp, text);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).not.toMatch(/warning/i);
    const lines = result.output.split('\n').filter((l) => /\(server dry run\)/.test(l));
    expect(lines).toHaveLength(parseManifests(text).length);
  });

  it.each(Object.entries(HELM_VALUES))('%s: values for %s use known top-level keys', (file, { keys }) => {
    const values = readYaml(join(K8S_DIR, file));
    expect(Object.keys(values).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('the Strimzi CRDs are the real thing: a listener without `tls` and an unknown field are rejected', async () => {
    const kafka = readFileSync(join(K8S_DIR, 'kafka/kind/kafka.yaml'), 'utf8');
    const noTls = await applyServerDryRun(cp, kafka.replace(/^(\s+)tls: false\n/m, ''));
    expect(noTls.ok).toBe(false);
    expect(noTls.output).toMatch(/tls/);
    const unknown = await applyServerDryRun(cp, kafka.replace('kafkaExporter:', 'kafkaExpoter:'));
    expect(unknown.ok).toBe(false);
    expect(unknown.output).toMatch(/kafkaExpoter/);
  });
});

describe.each(['kind', 'gke'])('Kafka for %s', (profile) => {
  const objects = [
    ...parseManifestFile(join(K8S_DIR, `kafka/${profile}/kafka.yaml`)),
    ...parseManifestFile(join(K8S_DIR, `kafka/${profile}/topics.yaml`)),
  ];
  const kafka = objects.find((o) => o.kind === 'Kafka') as KubeObject;
  const pools = objects.filter((o) => o.kind === 'KafkaNodePool');
  const topics = objects.filter((o) => o.kind === 'KafkaTopic');
  const brokers = pools
    .filter((p) => (p.spec as { roles: string[] }).roles.includes('broker'))
    .reduce((n, p) => n + (p.spec as { replicas: number }).replicas, 0);

  it('is one KRaft cluster: dual-role node pools labelled with the cluster, in its namespace', () => {
    expect(kafka.apiVersion).toBe('kafka.strimzi.io/v1');
    for (const pool of pools) {
      expect(pool.metadata.labels?.['strimzi.io/cluster'], describeObject(pool)).toBe(kafka.metadata.name);
      expect(pool.metadata.namespace).toBe(kafka.metadata.namespace);
      expect((pool.spec as { roles: string[] }).roles.sort()).toEqual(['broker', 'controller']);
    }
    expect(brokers).toBe(profile === 'kind' ? 1 : 3);
    const storage = (pools[0] as KubeObject).spec as { storage: { type: string } };
    expect(storage.storage.type).toBe(profile === 'kind' ? 'ephemeral' : 'jbod');
  });

  it('has the four contract topics, replicated no more than there are brokers', () => {
    expect(topics.map((t) => t.metadata.name).sort()).toEqual([...CONTRACT_TOPICS].sort());
    for (const t of topics) {
      const spec = t.spec as { partitions: number; replicas: number; config: Record<string, unknown> };
      expect(t.metadata.labels?.['strimzi.io/cluster'], t.metadata.name).toBe(kafka.metadata.name);
      expect(t.metadata.namespace).toBe(kafka.metadata.namespace);
      expect(spec.replicas).toBeLessThanOrEqual(brokers);
      expect(Number(spec.config['retention.ms'])).toBeGreaterThan(0);
      const minIsr = Number(spec.config['min.insync.replicas'] ?? 1);
      expect(minIsr).toBeLessThanOrEqual(spec.replicas);
      if (spec.replicas > 1) expect(minIsr).toBeLessThan(spec.replicas);
    }
    const raw = topics.find((t) => t.metadata.name === 'raw-market-data')?.spec as { partitions: number };
    // the chart's aggregators (values-<profile>.yaml) all get partitions
    const values = readYaml(join(CHARTS_DIR, 'tickflow', `values-${profile}.yaml`)) as {
      aggregator: { replicaCount: number };
    };
    expect(raw.partitions).toBeGreaterThanOrEqual(values.aggregator.replicaCount);
  });

  it('exports metrics: Kafka Exporter on, JMX rules from the kafka-metrics ConfigMap', () => {
    const spec = kafka.spec as {
      kafkaExporter?: Record<string, unknown>;
      kafka: {
        metricsConfig: { valueFrom: { configMapKeyRef: { name: string; key: string } } };
        config: Record<string, unknown>;
      };
    };
    expect(spec.kafkaExporter).toBeDefined();
    const ref = spec.kafka.metricsConfig.valueFrom.configMapKeyRef;
    const cm = parseManifestFile(join(K8S_DIR, 'kafka/kafka-metrics.yaml')).find(
      (o) => o.metadata.name === ref.name,
    );
    expect(cm?.metadata.namespace).toBe(kafka.metadata.namespace);
    const data = (cm as KubeObject).data as Record<string, string>;
    const rules = parse(data[ref.key] as string) as { rules: unknown[] };
    expect(rules.rules.length).toBeGreaterThan(0);
    expect(spec.kafka.config['auto.create.topics.enable']).toBe(false);
    expect(Number(spec.kafka.config['offsets.topic.replication.factor'])).toBeLessThanOrEqual(brokers);
  });

  it("is what the chart's default kafka.brokers points at (the bootstrap Service of the plain listener)", () => {
    const listeners = (
      kafka.spec as { kafka: { listeners: Array<{ name: string; port: number; tls: boolean }> } }
    ).kafka.listeners;
    const plain = listeners.find((l) => !l.tls) as { port: number };
    const chartValues = readYaml(join(CHARTS_DIR, 'tickflow', 'values.yaml')) as {
      kafka: { brokers: string };
    };
    expect(chartValues.kafka.brokers).toBe(
      `${kafka.metadata.name}-kafka-bootstrap.${kafka.metadata.namespace}.svc:${plain.port}`,
    );
  });

  it('is scraped: the PodMonitor selects this cluster in its namespace', () => {
    const monitors = parseManifestFile(join(K8S_DIR, 'monitoring/strimzi-podmonitors.yaml'));
    const kafkaMonitor = monitors.find((m) => m.metadata.name === 'tickflow-kafka') as KubeObject;
    const spec = kafkaMonitor.spec as {
      selector: { matchExpressions: Array<{ key: string; values: string[] }> };
      namespaceSelector: { matchNames: string[] };
    };
    expect(spec.selector.matchExpressions.find((e) => e.key === 'strimzi.io/cluster')?.values).toEqual([
      kafka.metadata.name,
    ]);
    expect(spec.namespaceSelector.matchNames).toEqual([kafka.metadata.namespace]);
  });
});

it('the operator chart values and skaffold deploy the Strimzi release whose CRDs are validated here', () => {
  const skaffold = readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8');
  expect(skaffold).toContain('oci://quay.io/strimzi-helm/strimzi-kafka-operator');
  expect(skaffold).toMatch(new RegExp(`version: ${STRIMZI_VERSION.replaceAll('.', '\\.')}\\b`));
  expect(readFileSync(join(K8S_DIR, 'strimzi/values.yaml'), 'utf8')).toContain(
    `--version ${STRIMZI_VERSION}`,
  );
});
