// Strimzi mode, an operator that starts before its CRD exists (supervised informers), and KEDA mode on a
// cluster without KEDA, on a real control plane with Strimzi's own KafkaTopic CRD (kafka.strimzi.io/v1,
// generated from Strimzi 1.2.0's Maven Central artifacts by the harness). No Strimzi operator runs:
// the test sets the KafkaTopics' Ready condition itself, as Strimzi's Topic Operator would.
import { resolve } from 'node:path';
import {
  type ControlPlane,
  ensureCrds,
  ensureNamespaces,
  installCrds,
  startControlPlane,
} from '@tickflow/k8s-harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperatorHandle } from '../src/app.ts';
import { applyYaml, eventually, getJson, runOperator, tryGetJson } from './support.ts';

const CRD_FILE = resolve(import.meta.dirname, '../../../charts/tickflow/crds/marketdatapipelines.yaml');
const NS = 'kafka';

type Topic = {
  metadata: {
    name: string;
    labels: Record<string, string>;
    ownerReferences?: Array<{ name: string; controller: boolean }>;
  };
  spec: { topicName: string; partitions: number; config: Record<string, unknown> };
};
type Mdp = {
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
};
const cond = (m: Mdp | undefined, type: string) => m?.status?.conditions?.find((c) => c.type === type);

function pipeline(partitions: number, autoscaling = '{ mode: none }'): string {
  return `apiVersion: tickflow.dev/v1alpha1
kind: MarketDataPipeline
metadata: { name: markets, namespace: ${NS} }
spec:
  kafka: { strimziCluster: tickflow }
  topics:
    raw: { partitions: ${partitions}, retention: 12h }
  producer: { enabled: false }
  aggregator:
    autoscaling: ${autoscaling}
  redis: { secretName: urls }
  database: { secretName: urls }
`;
}

describe('operator with Strimzi KafkaTopics', () => {
  let cp: ControlPlane;
  let op: OperatorHandle | undefined;

  beforeAll(async () => {
    const crds = await ensureCrds();
    cp = await startControlPlane({ controllerManager: true });
    await ensureNamespaces(cp, [NS, 'tickflow-system']);
    // the operator starts first: its pipeline informer fails (no such resource) and is restarted until
    // the CRD exists; startOperator resolves once the informers have synced
    const starting = runOperator(cp, { EXTERNAL_METRICS: 'false' });
    await new Promise((r) => setTimeout(r, 3000));
    await installCrds(cp, [CRD_FILE, ...crds.strimzi.filter((f) => f.endsWith('043-Crd-kafkatopic.yaml'))]);
    op = await starting;
    expect(op.informerRestarts()).toBeGreaterThan(0);
  }, 30 * 60_000);

  afterAll(async () => {
    await op?.stop();
    await cp?.stop();
  });

  it('creates owned KafkaTopics, waits for them to be Ready, and grows partitions', async () => {
    await applyYaml(cp, pipeline(6));
    const raw = await eventually('KafkaTopic markets-raw', () =>
      tryGetJson<Topic>(cp, ['-n', NS, 'get', 'kafkatopic', 'markets-raw']),
    );
    expect(raw.metadata.labels['strimzi.io/cluster']).toBe('tickflow');
    expect(raw.metadata.ownerReferences?.[0]).toMatchObject({ name: 'markets', controller: true });
    expect(raw.spec).toMatchObject({
      topicName: 'raw-market-data',
      partitions: 6,
      config: { 'retention.ms': 43_200_000 },
    });
    const topics = await getJson<{ items: Topic[] }>(cp, ['-n', NS, 'get', 'kafkatopics']);
    expect(topics.items.map((t) => t.metadata.name).sort()).toEqual([
      'markets-alerts',
      'markets-bars',
      'markets-dlq',
      'markets-raw',
    ]);
    const waiting = await eventually('Progressing on topics', async () => {
      const m = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', 'markets']);
      return cond(m, 'Progressing')?.message.includes('topics not ready') ? m : undefined;
    });
    expect(waiting.status?.phase).toBe('Progressing');

    // what Strimzi's Topic Operator does once the topics exist in Kafka
    for (const t of topics.items) {
      await cp.kubectl([
        '-n',
        NS,
        'patch',
        'kafkatopic',
        t.metadata.name,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
          },
        }),
      ]);
    }
    await eventually('topics no longer pending', async () => {
      const m = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', 'markets']);
      return (
        !cond(m, 'Progressing')?.message.includes('topics not ready') &&
        !cond(m, 'Ready')?.message.includes('topics')
      );
    });

    // partitions grow through the KafkaTopic
    await applyYaml(cp, pipeline(12));
    await eventually(
      '12 partitions',
      async () =>
        (await getJson<Topic>(cp, ['-n', NS, 'get', 'kafkatopic', 'markets-raw'])).spec.partitions === 12,
    );
    await eventually(
      'generation 2 observed',
      async () =>
        (await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', 'markets'])).status?.observedGeneration === 2,
    );
  });

  it('autoscaling.mode keda without KEDA installed: Degraded with a clear reason and a Warning event', async () => {
    await applyYaml(cp, pipeline(12, '{ mode: keda }'));
    const m = await eventually('Degraded', async () => {
      const x = await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', 'markets']);
      return x.status?.phase === 'Degraded' ? x : undefined;
    });
    expect(cond(m, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(cond(m, 'Degraded')?.message).toContain('KEDA');
    const events = await getJson<{ items: Array<{ type: string; reason: string; message: string }> }>(cp, [
      '-n',
      NS,
      'get',
      'events',
    ]);
    expect(events.items.some((e) => e.type === 'Warning' && e.message.includes('KEDA'))).toBe(true);
    // back to none: recovers
    await applyYaml(cp, pipeline(12));
    await eventually(
      'not Degraded',
      async () =>
        cond(await getJson<Mdp>(cp, ['-n', NS, 'get', 'mdp', 'markets']), 'Degraded')?.status === 'False',
    );
    expect((op?.reconciler.metrics.errors ?? 0) > 0).toBe(true);
  });

  it('leader election: a second operator waits, takes over when the leader stops, and reconciles', async () => {
    const first = op as OperatorHandle;
    expect(first.isLeader()).toBe(true);
    const second = await runOperator(cp, { EXTERNAL_METRICS: 'false' });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(second.isLeader()).toBe(false);
      expect(second.reconciler.metrics.reconciles).toBe(0);
      await first.stop(); // releases the Lease
      op = undefined;
      await eventually('takeover', async () => second.isLeader(), 30_000, 200);
      await applyYaml(cp, pipeline(16));
      await eventually(
        'the new leader reconciles',
        async () =>
          (await getJson<Topic>(cp, ['-n', NS, 'get', 'kafkatopic', 'markets-raw'])).spec.partitions === 16,
      );
      const lease = await getJson<{ spec: { holderIdentity: string; leaseTransitions: number } }>(cp, [
        '-n',
        'tickflow-system',
        'get',
        'lease',
        'tickflow-operator',
      ]);
      expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    } finally {
      await second.stop();
    }
  });
});
