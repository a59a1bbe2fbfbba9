// The operator against a real control plane (etcd, kube-apiserver with the aggregation layer,
// kube-controller-manager with a 2 s HPA sync) from @tickflow/k8s-harness, and the real Kafka of the
// integration stack. No kubelets: Deployments get ReplicaSets and Pods that stay Pending; where a test
// needs readiness it patches the Pods' status (Ready) the way a kubelet would.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  type ControlPlane,
  ensureNamespaces,
  installCrds,
  type LocalApiService,
  registerLocalApiService,
  startControlPlane,
} from '@tickflow/k8s-harness';
import { consumerGroupLag } from '@tickflow/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OperatorHandle } from '../src/app.ts';
import {
  applyYaml,
  consumeAndCommit,
  eventually,
  getJson,
  produce,
  runOperator,
  tryGetJson,
} from './support.ts';

const CRD_FILE = resolve(import.meta.dirname, '../../../charts/tickflow/crds/marketdatapipelines.yaml');
const SAMPLE = resolve(import.meta.dirname, '../../../k8s/samples/marketdatapipeline.yaml');
const NS = 'pipelines';

type Obj = {
  metadata: {
    name: string;
    generation?: number;
    resourceVersion?: string;
    ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
    uid?: string;
  };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: Record<string, unknown>;
};
type Mdp = Obj & {
  status?: {
    phase?: string;
    observedGeneration?: number;
    lag?: number;
    aggregatorReplicas?: number;
    maxAggregatorReplicas?: number;
    conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number }>;
  };
};

function pipelineYaml(
  name: string,
  brokers: string,
  topic: string,
  extra: { autoscaling?: string; producerReplicas?: number; partitions?: number } = {},
): string {
  return `apiVersion: tickflow.dev/v1alpha1
kind: MarketDataPipeline
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  image: tickflow:test
  kafka:
    bootstrapServers: ${brokers}
    groupId: ${name}-aggregators
  topics:
    raw: { name: ${topic}, partitions: ${extra.partitions ?? 4}, retention: 1h }
    bars: { name: ${topic}-bars, partitions: 1 }
    alerts: { name: ${topic}-alerts, partitions: 1 }
    dlq: { name: ${topic}-dlq, partitions: 1 }
  producer:
    replicas: ${extra.producerReplicas ?? 1}
  aggregator:
    replicas: 2
    autoscaling: ${extra.autoscaling ?? '{ mode: none }'}
  redis: { secretName: pipeline-urls }
  database: { secretName: pipeline-urls }
`;
}

const condition = (m: Mdp | undefined, type: string) => m?.status?.conditions?.find((c) => c.type === type);

describe('operator on a real control plane', () => {
  let cp: ControlPlane;
  let op: OperatorHandle | undefined;
  let metricsPort: number;
  let apiService: LocalApiService;
  const waitAvailable = () => apiService.waitAvailable(60_000);

  const stack = inject('stack');
  const id = randomUUID().slice(0, 6);

  beforeAll(async () => {
    cp = await startControlPlane({
      controllerManager: {
        hpaSyncPeriod: '2s',
        extraArgs: ['--horizontal-pod-autoscaler-downscale-stabilization=5s'],
      },
    });
    await ensureNamespaces(cp, [NS, 'tickflow-system', 'kafka']);
    await installCrds(cp, [CRD_FILE]);
    // a free port for the external metrics API, known before the APIService is registered
    const { createServer } = await import('node:net');
    metricsPort = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    // registered with the cluster CA as caBundle: the operator must replace it with its own CA
    apiService = await registerLocalApiService(cp, {
      group: 'external.metrics.k8s.io',
      version: 'v1beta1',
      port: metricsPort,
      namespace: 'tickflow-system',
      serviceName: 'tickflow-operator',
    });
    op = await runOperator(cp, { EXTERNAL_METRICS_PORT: String(metricsPort) });
  });

  afterAll(async () => {
    await op?.stop();
    await cp?.stop();
  });

  it('installs the CRD and the API server rejects invalid specs', async () => {
    const crd = await getJson(cp, ['get', 'crd', 'marketdatapipelines.tickflow.dev']);
    expect((crd.spec as { names: { shortNames: string[] } }).names.shortNames).toEqual(['mdp']);
    const good = pipelineYaml('valid', stack.brokers, `raw-valid-${id}`);
    await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: good });
    // the documented sample is valid
    await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', SAMPLE]);
    const bad: Array<[string, string, RegExp]> = [
      [
        'both Kafka kinds',
        good.replace('  kafka:\n', '  kafka:\n    strimziCluster: tickflow\n'),
        /exactly one of kafka.strimziCluster/,
      ],
      [
        'min > max',
        good.replace('{ mode: none }', '{ mode: hpa, minReplicas: 5, maxReplicas: 2 }'),
        /minReplicas must not exceed maxReplicas/,
      ],
      ['unknown mode', good.replace('{ mode: none }', '{ mode: vpa }'), /Unsupported value: "vpa"/],
      [
        'zero partitions',
        good.replace('partitions: 4', 'partitions: 0'),
        /should be greater than or equal to 1/,
      ],
      ['bad rate', good.replace('    replicas: 1\n', '    replicas: 1\n    rate: fast\n'), /rate/],
      ['bad retention', good.replace('retention: 1h', 'retention: forever'), /retention/],
      ['no redis', good.replace('  redis: { secretName: pipeline-urls }\n', ''), /redis: Required value/],
      [
        'same topic twice',
        good.replace(`${`raw-valid-${id}`}-bars`, `raw-valid-${id}`),
        /topic names must differ/,
      ],
    ];
    for (const [what, yaml, error] of bad) {
      await expect(
        cp.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml }),
        what,
      ).rejects.toThrow(error);
    }
    // transition rule: partitions only grow
    await applyYaml(cp, good.replace('name: valid', 'name: shrink'));
    await expect(
      applyYaml(cp, good.replace('name: valid', 'name: shrink').replace('partitions: 4', 'partitions: 2')),
    ).rejects.toThrow(/partitions can only grow/);
    await cp.kubectl(['-n', NS, 'delete', 'mdp', 'shrink', '--wait=false']);
  });

  it('creates, updates, garbage-collects, and a restarted operator does no duplicate work', async () => {
    const name = `p-${id}`;
    const topic = `raw-crud-${id}`;
    await applyYaml(cp, pipelineYaml(name, stack.brokers, topic));
    const producer = await eventually('producer Deployment', () =>
      tryGetJson<Obj>(cp, ['-n', NS, 'get', 'deployment', `${name}-producer`]),
    );
    const aggregator = await eventually('aggregator Deployment', () =>
      tryGetJson<Obj>(cp, ['-n', NS, 'get', 'deployment', `${name}-aggregator`]),
    );
    const mdp = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', name]);
    for (const d of [producer, aggregator]) {
      expect(d.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'MarketDataPipeline',
          name,
          uid: mdp.metadata.uid,
          controller: true,
        }),
      ]);
    }
    expect(aggregator.spec?.replicas).toBe(2);
    // topics exist in Kafka with the spec's partitions
    expect((await consumerGroupLag(stack.brokers, `${name}-aggregators`, topic)).length).toBe(4);

    // status: observed generation 1, progressing (no pod is ready: there are no kubelets)
    const progressing = await eventually('status for generation 1', async () => {
      const m = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', name]);
      return m.status?.observedGeneration === 1 && m.status.phase !== undefined ? m : undefined;
    });
    expect(['Progressing', 'Pending']).toContain(progressing.status?.phase);
    expect(condition(progressing, 'Ready')?.status).toBe('False');
    expect(condition(progressing, 'Degraded')?.status).toBe('False');
    expect(condition(progressing, 'Ready')?.observedGeneration).toBe(1);

    // drive readiness like a kubelet: every pod of the pipeline Running and Ready
    const markPodsReady = async () => {
      const pods = await getJson<{ items: Obj[] }>(cp, [
        '-n',
        NS,
        'get',
        'pods',
        '-l',
        `app.kubernetes.io/instance=${name}`,
      ]);
      for (const p of pods.items) {
        await cp.kubectl([
          '-n',
          NS,
          'patch',
          'pod',
          p.metadata.name,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({
            status: {
              phase: 'Running',
              conditions: [
                { type: 'Ready', status: 'True' },
                { type: 'PodScheduled', status: 'True' },
              ],
            },
          }),
        ]);
      }
      return pods.items.length;
    };
    await eventually('3 pods', async () => (await markPodsReady()) >= 3);
    const ready = await eventually('Ready', async () => {
      const m = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', name]);
      return m.status?.phase === 'Ready' ? m : undefined;
    });
    expect(condition(ready, 'Progressing')?.status).toBe('False');
    expect(ready.status?.aggregatorReplicas).toBe(2);

    // update: more producers, autoscaling on -> Deployment updated, HPA created, generation 2 observed
    await applyYaml(
      cp,
      pipelineYaml(name, stack.brokers, topic, {
        producerReplicas: 2,
        autoscaling: '{ mode: hpa, lagPerReplica: 50, maxReplicas: 10 }',
      }),
    );
    await eventually(
      'producer scaled',
      async () =>
        (await getJson<Obj>(cp, ['-n', NS, 'get', 'deployment', `${name}-producer`])).spec?.replicas === 2,
    );
    const hpa = await eventually('HPA', () =>
      tryGetJson<Obj>(cp, ['-n', NS, 'get', 'hpa', `${name}-aggregator`]),
    );
    expect(hpa.metadata.ownerReferences?.[0]?.name).toBe(name);
    // capped at the raw topic's 4 partitions
    expect(hpa.spec?.maxReplicas).toBe(4);
    const observed2 = await eventually('generation 2 observed', async () => {
      const m = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', name]);
      return m.status?.observedGeneration === 2 ? m : undefined;
    });
    expect(observed2.status?.maxAggregatorReplicas).toBe(4);
    // the handoff kept the replica count (the HPA owns it from now on), no reset to 1
    const agg2 = await getJson<Obj>(cp, ['-n', NS, 'get', 'deployment', `${name}-aggregator`]);
    expect(agg2.spec?.replicas).toBeGreaterThanOrEqual(1);

    // restart: the new operator converges without writing or creating anything (owned objects'
    // generations and the pipeline's Created events stay as they were)
    const generations = () =>
      Promise.all(
        [
          ['deployment', `${name}-producer`],
          ['deployment', `${name}-aggregator`],
          ['hpa', `${name}-aggregator`],
        ].map(
          async ([k, n]) =>
            (await getJson<Obj>(cp, ['-n', NS, 'get', k as string, n as string])).metadata.generation,
        ),
      );
    const events = async () =>
      (
        await getJson<{ items: Array<{ reason: string }> }>(cp, [
          '-n',
          NS,
          'get',
          'events',
          '--field-selector',
          `involvedObject.name=${name}`,
        ])
      ).items;
    const before = await generations();
    const eventsBefore = await events();
    await op?.stop();
    op = await runOperator(cp, { EXTERNAL_METRICS_PORT: String(metricsPort) });
    const restarted = op;
    await eventually(
      'restarted operator reconciled',
      async () => restarted.reconciler.metrics.reconciles > 0 && restarted.queue.inFlight === 0,
    );
    await new Promise((r) => setTimeout(r, 4000)); // one resync period
    expect(restarted.reconciler.metrics.created).toBe(0);
    expect(restarted.reconciler.metrics.deleted).toBe(0);
    const after = await generations();
    expect(after).toEqual(before);
    const eventsAfter = await events();
    expect(eventsAfter.filter((e) => e.reason === 'Created').length).toBe(
      eventsBefore.filter((e) => e.reason === 'Created').length,
    );
    expect(eventsBefore.filter((e) => e.reason === 'Created').length).toBe(3);

    // delete: the garbage collector removes everything the pipeline owned
    await cp.kubectl(['-n', NS, 'delete', 'mdp', name]);
    await eventually('garbage collection', async () => {
      const left = await Promise.all(
        [
          ['deployment', `${name}-producer`],
          ['deployment', `${name}-aggregator`],
          ['hpa', `${name}-aggregator`],
        ].map(([k, n]) => tryGetJson(cp, ['-n', NS, 'get', k as string, n as string])),
      );
      return left.every((o) => o === undefined);
    });
  });

  it('serves the true consumer-group lag through the API server (kubectl get --raw)', async () => {
    await waitAvailable();
    const name = `lag-${id}`;
    const topic = `raw-lag-${id}`;
    const group = `${name}-aggregators`;
    await applyYaml(
      cp,
      pipelineYaml(name, stack.brokers, topic, { autoscaling: '{ mode: hpa, lagPerReplica: 1000000 }' }),
    );
    await eventually(
      'topic created',
      async () => (await consumerGroupLag(stack.brokers, group, topic).catch(() => [])).length === 4,
    );
    await produce(stack.brokers, topic, 1200);
    await consumeAndCommit(stack.brokers, group, topic, 500);
    const truth = (await consumerGroupLag(stack.brokers, group, topic)).reduce(
      (sum, p) => sum + (p.committedOffset < 0 ? p.logEndOffset : p.logEndOffset - p.committedOffset),
      0,
    );
    expect(truth).toBeGreaterThanOrEqual(700);
    const raw = await eventually('the metric', async () => {
      const { stdout } = await cp.kubectl([
        'get',
        '--raw',
        `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/kafka_consumergroup_lag?labelSelector=${encodeURIComponent(`tickflow.dev/pipeline=${name}`)}`,
      ]);
      return JSON.parse(stdout) as {
        kind: string;
        items: Array<{ value: string; metricLabels: Record<string, string> }>;
      };
    });
    expect(raw.kind).toBe('ExternalMetricValueList');
    expect(raw.items).toHaveLength(1);
    expect(Number(raw.items[0]?.value)).toBe(truth);
    expect(raw.items[0]?.metricLabels).toEqual({
      'tickflow.dev/pipeline': name,
      topic,
      consumergroup: group,
    });
    // discovery through the aggregator
    const { stdout } = await cp.kubectl(['get', '--raw', '/apis/external.metrics.k8s.io/v1beta1']);
    expect(JSON.parse(stdout).resources[0].name).toBe('kafka_consumergroup_lag');
    // the operator replaced the registered caBundle with its own CA
    const svc = await getJson<{ spec: { caBundle: string } }>(cp, [
      'get',
      'apiservice',
      'v1beta1.external.metrics.k8s.io',
    ]);
    const secret = await getJson<{ data: Record<string, string> }>(cp, [
      '-n',
      'tickflow-system',
      'get',
      'secret',
      'tickflow-operator-metrics-tls',
    ]);
    expect(svc.spec.caBundle).toBe(secret.data['ca.crt']);
    await cp.kubectl(['-n', NS, 'delete', 'mdp', name, '--wait=false']);
  });

  it('the HPA scales the aggregators up on a backlog, never above the partitions, and down when drained', async () => {
    await waitAvailable();
    const name = `hpa-${id}`;
    const topic = `raw-hpa-${id}`;
    const group = `${name}-aggregators`;
    await applyYaml(
      cp,
      pipelineYaml(name, stack.brokers, topic, {
        autoscaling:
          '{ mode: hpa, lagPerReplica: 100, minReplicas: 1, maxReplicas: 10, scaleDownStabilizationSeconds: 0 }',
      }),
    );
    const deployment = () =>
      getJson<Obj & { status?: { replicas?: number } }>(cp, [
        '-n',
        NS,
        'get',
        'deployment',
        `${name}-aggregator`,
      ]);
    await eventually('HPA', () => tryGetJson<Obj>(cp, ['-n', NS, 'get', 'hpa', `${name}-aggregator`]));
    await eventually(
      'topic created',
      async () => (await consumerGroupLag(stack.brokers, group, topic).catch(() => [])).length === 4,
    );
    // the group has committed offsets at the log end: lag 0, the HPA settles at minReplicas
    await produce(stack.brokers, topic, 40);
    await consumeAndCommit(stack.brokers, group, topic, 40);
    await eventually('1 replica at lag 0', async () => (await deployment()).spec?.replicas === 1);

    // a backlog of 2,000 (20 x lagPerReplica): the metric is capped at 4 partitions x 100
    await produce(stack.brokers, topic, 2000);
    let highest = 0;
    await eventually(
      'scale-up to the partition count',
      async () => {
        const r = (await deployment()).spec?.replicas ?? 0;
        highest = Math.max(highest, r);
        return r === 4;
      },
      180_000,
      250,
    );
    // it stays there (and never above): several HPA syncs later
    for (let i = 0; i < 10; i++) {
      const r = (await deployment()).spec?.replicas ?? 0;
      highest = Math.max(highest, r);
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(highest).toBe(4);
    const hpa = await getJson<{
      status: { currentMetrics?: Array<{ external?: { current?: { averageValue?: string } } }> };
    }>(cp, ['-n', NS, 'get', 'hpa', `${name}-aggregator`]);
    expect(hpa.status.currentMetrics?.[0]?.external?.current?.averageValue).toBeDefined();

    // drain it with real consumers in the group: lag 0, back down to minReplicas
    const drained = await consumeAndCommit(stack.brokers, group, topic, 2000, 120_000);
    expect(drained).toBe(2000);
    await eventually(
      'scale-down to 1',
      async () => {
        const r = (await deployment()).spec?.replicas ?? 0;
        highest = Math.max(highest, r);
        return r === 1;
      },
      180_000,
      250,
    );
    expect(highest).toBeLessThanOrEqual(4);
    const m = await eventually('status lag 0', async () => {
      const x = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', name]);
      return x.status?.lag === 0 ? x : undefined;
    });
    expect(m.status?.maxAggregatorReplicas).toBe(4);
    await cp.kubectl(['-n', NS, 'delete', 'mdp', name, '--wait=false']);
  });
});
