import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CRD_FILE } from '../scripts/write-crd.ts';
import { crdYaml, defaultedSpec, type MarketDataPipeline } from '../src/crd.ts';
import { autoscalingBounds, desiredState, retentionMs } from '../src/desired.ts';

function pipeline(spec: Record<string, unknown>, name = 'demo'): MarketDataPipeline {
  return {
    apiVersion: 'tickflow.dev/v1alpha1',
    kind: 'MarketDataPipeline',
    metadata: { name, namespace: 'markets', uid: 'uid-1', generation: 3 },
    spec: defaultedSpec({
      kafka: { bootstrapServers: 'kafka:9092' },
      redis: { secretName: 'urls' },
      database: { secretName: 'urls' },
      ...spec,
    }),
  };
}

type Dep = {
  spec: {
    replicas?: number;
    template: {
      spec: {
        containers: Array<{
          env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
          image: string;
          args: string[];
        }>;
      };
    };
  };
};
const env = (d: unknown) =>
  Object.fromEntries(
    (d as Dep).spec.template.spec.containers[0]?.env.map((e) => [e.name, e.value ?? e.valueFrom]) ?? [],
  );

describe('CRD', () => {
  it('charts/tickflow/crds/marketdatapipelines.yaml is generated from crd.ts (run apps/operator/scripts/write-crd.ts)', () => {
    expect(readFileSync(CRD_FILE, 'utf8')).toBe(crdYaml());
  });

  it('defaults every field the controller reads', () => {
    const s = defaultedSpec({
      kafka: { strimziCluster: 'tickflow' },
      redis: { secretName: 'r' },
      database: { secretName: 'd' },
    });
    expect(s.kafka.groupId).toBe('tickflow-aggregators');
    expect(s.topics.raw).toEqual({ name: 'raw-market-data', partitions: 6, replicas: 1, retention: '24h' });
    expect(s.aggregator.autoscaling).toMatchObject({
      mode: 'none',
      lagPerReplica: 1000,
      minReplicas: 1,
      maxReplicas: 6,
      offsetResetPolicy: 'earliest',
    });
    expect(s.producer).toMatchObject({ enabled: true, replicas: 1, source: 'synthetic', rate: '1000' });
    expect(s.redis.key).toBe('REDIS_URL');
    expect(s.telemetry.metricsPort).toBe(9464);
  });
});

describe('desiredState', () => {
  it('renders owned, labelled Deployments wired to the pipeline', () => {
    const d = desiredState(pipeline({}), { defaultImage: 'tickflow:1' });
    for (const o of [d.producer, d.aggregator]) {
      expect(o?.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'tickflow.dev/v1alpha1',
          kind: 'MarketDataPipeline',
          name: 'demo',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o?.metadata.labels?.['tickflow.dev/pipeline']).toBe('demo');
      expect(o?.metadata.namespace).toBe('markets');
    }
    expect((d.aggregator as unknown as Dep).spec.replicas).toBe(2);
    expect((d.aggregator as unknown as Dep).spec.template.spec.containers[0]?.args).toEqual(['aggregate']);
    expect((d.producer as unknown as Dep).spec.template.spec.containers[0]?.image).toBe('tickflow:1');
    const agg = env(d.aggregator);
    expect(agg.KAFKA_BROKERS).toBe('kafka:9092');
    expect(agg.KAFKA_GROUP_ID).toBe('tickflow-aggregators');
    expect(agg.REDIS_URL).toEqual({ secretKeyRef: { name: 'urls', key: 'REDIS_URL' } });
    expect(agg.DATABASE_URL).toEqual({ secretKeyRef: { name: 'urls', key: 'DATABASE_URL' } });
    expect(agg.NODE_OPTIONS).toBe('--max-semi-space-size=32');
    expect(env(d.producer).CREATE_TOPICS).toBe('false');
    expect(d.autoscaler).toBeUndefined();
    expect(d.topics).toEqual([]);
    expect(d.adminTopics.map((t) => t.topic)).toEqual([
      'raw-market-data',
      'aggregated-metrics',
      'price-alerts',
      'dead-letter-queue',
    ]);
  });

  it('renders Strimzi KafkaTopics with the cluster label, partitions and retention', () => {
    const d = desiredState(
      pipeline({
        kafka: { strimziCluster: 'tickflow' },
        topics: { raw: { partitions: 12, retention: '2d' } },
      }),
      {
        defaultImage: 'x',
      },
    );
    expect(d.brokers).toBe('tickflow-kafka-bootstrap.markets.svc:9092');
    expect(d.adminTopics).toEqual([]);
    const raw = d.topics[0] as unknown as {
      metadata: { name: string; labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(raw.metadata.name).toBe('demo-raw');
    expect(raw.metadata.labels['strimzi.io/cluster']).toBe('tickflow');
    expect(raw.spec).toEqual({
      topicName: 'raw-market-data',
      partitions: 12,
      replicas: 1,
      config: { 'retention.ms': 172_800_000, 'cleanup.policy': 'delete' },
    });
    expect(d.topics).toHaveLength(4);
  });

  it('hpa: no aggregator replicas (the HPA owns them), External AverageValue = lagPerReplica, capped at partitions', () => {
    const d = desiredState(
      pipeline({
        aggregator: {
          autoscaling: {
            mode: 'hpa',
            lagPerReplica: 250,
            minReplicas: 2,
            maxReplicas: 20,
            scaleDownStabilizationSeconds: 60,
          },
        },
      }),
      { defaultImage: 'x' },
    );
    expect((d.aggregator as unknown as Dep).spec.replicas).toBeUndefined();
    const hpa = d.autoscaler as unknown as {
      kind: string;
      spec: Record<string, unknown> & {
        metrics: unknown[];
        behavior: { scaleDown: { stabilizationWindowSeconds: number } };
      };
    };
    expect(hpa.kind).toBe('HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(6); // raw-market-data has 6 partitions by default
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'External',
        external: {
          metric: {
            name: 'kafka_consumergroup_lag',
            selector: { matchLabels: { 'tickflow.dev/pipeline': 'demo' } },
          },
          target: { type: 'AverageValue', averageValue: '250' },
        },
      },
    ]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(60);
  });

  it('keda: a ScaledObject with the Kafka trigger mirroring the same settings', () => {
    const d = desiredState(
      pipeline({
        aggregator: {
          autoscaling: { mode: 'keda', lagPerReplica: 500, activationLag: 10, offsetResetPolicy: 'latest' },
        },
      }),
      { defaultImage: 'x' },
    );
    const so = d.autoscaler as unknown as {
      kind: string;
      spec: { maxReplicaCount: number; triggers: Array<{ type: string; metadata: Record<string, string> }> };
    };
    expect(so.kind).toBe('ScaledObject');
    expect(so.spec.maxReplicaCount).toBe(6);
    expect(so.spec.triggers[0]).toEqual({
      type: 'kafka',
      metadata: {
        bootstrapServers: 'kafka:9092',
        consumerGroup: 'tickflow-aggregators',
        topic: 'raw-market-data',
        lagThreshold: '500',
        activationLagThreshold: '10',
        offsetResetPolicy: 'latest',
        allowIdleConsumers: 'false',
        scaleToZeroOnInvalidOffset: 'false',
        excludePersistentLag: 'false',
      },
    });
    expect((d.aggregator as unknown as Dep).spec.replicas).toBeUndefined();
  });

  it('caps maxReplicas at the partitions, unless idle consumers are allowed; observed partitions count', () => {
    const p = pipeline({
      topics: { raw: { partitions: 3 } },
      aggregator: { autoscaling: { mode: 'hpa', minReplicas: 5, maxReplicas: 10 } },
    });
    expect(autoscalingBounds(p)).toEqual({ minReplicas: 3, maxReplicas: 3, partitions: 3 });
    expect(autoscalingBounds(p, 8)).toEqual({ minReplicas: 5, maxReplicas: 8, partitions: 8 });
    const idle = pipeline({
      topics: { raw: { partitions: 3 } },
      aggregator: { autoscaling: { mode: 'hpa', maxReplicas: 10, allowIdleConsumers: true } },
    });
    expect(autoscalingBounds(idle).maxReplicas).toBe(10);
  });

  it('producer disabled: no producer Deployment', () => {
    expect(
      desiredState(pipeline({ producer: { enabled: false } }), { defaultImage: 'x' }).producer,
    ).toBeUndefined();
  });

  it('retention units', () => {
    expect(retentionMs('500ms')).toBe(500);
    expect(retentionMs('30m')).toBe(1_800_000);
    expect(retentionMs('7d')).toBe(604_800_000);
    expect(() => retentionMs('forever')).toThrow();
  });
});
