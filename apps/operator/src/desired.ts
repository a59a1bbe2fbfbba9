// PURE: a MarketDataPipeline (spec already defaulted) -> the objects the operator server-side applies.
// No I/O, no clock: unit-tested without a cluster.
import { aggregatorNodeOptions } from '@tickflow/aggregator/node-options';
import { API_VERSION, KIND, type MarketDataPipeline, type TopicSpec } from './crd.ts';

export const FIELD_MANAGER = 'tickflow-operator';
/** Field manager that briefly co-owns the aggregator's replicas when an autoscaler takes them over. */
export const HANDOFF_FIELD_MANAGER = 'tickflow-operator-handoff';
export const PIPELINE_LABEL = 'tickflow.dev/pipeline';
export const LAG_METRIC = 'kafka_consumergroup_lag';
export const MANAGED_BY = 'tickflow-operator';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface DesiredOptions {
  /** Image when the pipeline names none. */
  defaultImage: string;
  /** Partitions the raw topic really has (from Kafka), when known: may exceed the spec after manual growth. */
  observedRawPartitions?: number;
}

export interface DesiredState {
  brokers: string;
  topics: KubeObject[];
  /** Topics to create through the Kafka admin API (no Strimzi). */
  adminTopics: Array<{
    topic: string;
    partitions: number;
    replicationFactor: number;
    config: Record<string, string>;
  }>;
  producer?: KubeObject;
  aggregator: KubeObject;
  autoscaler?: KubeObject;
  /** Effective autoscaling maximum (maxReplicas capped at the partitions unless idle consumers are allowed). */
  maxReplicas: number;
  minReplicas: number;
}

export const names = (pipeline: string) => ({
  producer: `${pipeline}-producer`,
  aggregator: `${pipeline}-aggregator`,
  autoscaler: `${pipeline}-aggregator`,
  topic: (role: string) => `${pipeline}-${role}`,
});

const RETENTION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function retentionMs(retention: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(retention);
  if (!m) throw new Error(`invalid retention ${retention}`);
  return Number(m[1]) * (RETENTION_UNITS[m[2] as string] as number);
}

export function brokersOf(mdp: MarketDataPipeline): string {
  const k = mdp.spec.kafka;
  if (k.bootstrapServers) return k.bootstrapServers;
  return `${k.strimziCluster}-kafka-bootstrap.${mdp.metadata.namespace}.svc:9092`;
}

export function ownerReference(mdp: MarketDataPipeline): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: mdp.metadata.name,
    uid: mdp.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function selectorLabels(pipeline: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'tickflow',
    'app.kubernetes.io/instance': pipeline,
    'app.kubernetes.io/component': component,
  };
}

function labels(pipeline: string, component: string): Record<string, string> {
  return {
    ...selectorLabels(pipeline, component),
    'app.kubernetes.io/part-of': 'tickflow',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [PIPELINE_LABEL]: pipeline,
  };
}

function meta(
  mdp: MarketDataPipeline,
  name: string,
  component: string,
  extraLabels: Record<string, string> = {},
) {
  return {
    name,
    namespace: mdp.metadata.namespace,
    labels: { ...labels(mdp.metadata.name, component), ...extraLabels },
    ownerReferences: [ownerReference(mdp)],
  };
}

/** Autoscaling bounds: maxReplicas capped at the raw topic's partitions (more consumers sit idle). */
export function autoscalingBounds(mdp: MarketDataPipeline, observedRawPartitions?: number) {
  const a = mdp.spec.aggregator.autoscaling;
  const partitions = Math.max(mdp.spec.topics.raw.partitions, observedRawPartitions ?? 0);
  const maxReplicas = a.allowIdleConsumers ? a.maxReplicas : Math.min(a.maxReplicas, partitions);
  const minReplicas = Math.min(a.minReplicas, maxReplicas);
  return { minReplicas, maxReplicas, partitions };
}

const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};

function probes(port: string) {
  return {
    startupProbe: {
      httpGet: { path: '/healthz', port },
      periodSeconds: 2,
      timeoutSeconds: 2,
      failureThreshold: 90,
    },
    readinessProbe: {
      httpGet: { path: '/readyz', port },
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
  };
}

function deployment(
  mdp: MarketDataPipeline,
  opts: DesiredOptions,
  component: 'producer' | 'aggregator',
  replicas: number | undefined,
  env: Array<Record<string, unknown>>,
  resources: unknown,
  terminationGracePeriodSeconds: number,
): KubeObject {
  const s = mdp.spec;
  const name =
    component === 'producer' ? names(mdp.metadata.name).producer : names(mdp.metadata.name).aggregator;
  const podLabels = labels(mdp.metadata.name, component);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(mdp, name, component),
    spec: {
      // absent when an autoscaler owns the count: server-side apply then leaves it to the HPA
      ...(replicas === undefined ? {} : { replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(mdp.metadata.name, component) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          ...(s.serviceAccountName ? { serviceAccountName: s.serviceAccountName } : {}),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext,
          terminationGracePeriodSeconds,
          containers: [
            {
              name: component,
              image: s.image ?? opts.defaultImage,
              imagePullPolicy: s.imagePullPolicy,
              args: [component === 'producer' ? 'produce' : 'aggregate'],
              env,
              ports: [{ name: 'metrics', containerPort: s.telemetry.metricsPort, protocol: 'TCP' }],
              ...probes('metrics'),
              resources,
              securityContext,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

const value = (name: string, v: string | number) => ({ name, value: String(v) });
const secret = (name: string, secretName: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secretName, key } },
});
const clientId = { name: 'KAFKA_CLIENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };

function kafkaTopic(mdp: MarketDataPipeline, role: string, t: TopicSpec): KubeObject {
  return {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaTopic',
    metadata: meta(mdp, names(mdp.metadata.name).topic(role), 'topic', {
      'strimzi.io/cluster': mdp.spec.kafka.strimziCluster as string,
    }),
    spec: {
      topicName: t.name,
      partitions: t.partitions,
      replicas: t.replicas,
      config: { 'retention.ms': retentionMs(t.retention), 'cleanup.policy': 'delete' },
    },
  };
}

export function desiredState(mdp: MarketDataPipeline, opts: DesiredOptions): DesiredState {
  const s = mdp.spec;
  const n = names(mdp.metadata.name);
  const brokers = brokersOf(mdp);
  const roles = Object.entries(s.topics) as Array<[string, TopicSpec]>;
  const topics = s.kafka.strimziCluster ? roles.map(([role, t]) => kafkaTopic(mdp, role, t)) : [];
  const adminTopics = s.kafka.strimziCluster
    ? []
    : roles.map(([, t]) => ({
        topic: t.name,
        partitions: t.partitions,
        replicationFactor: t.replicas,
        config: { 'retention.ms': String(retentionMs(t.retention)), 'cleanup.policy': 'delete' },
      }));

  const common = [
    value('KAFKA_BROKERS', brokers),
    value('TOPIC_RAW', s.topics.raw.name),
    value('METRICS_PORT', s.telemetry.metricsPort),
    value('LOG_FORMAT', s.telemetry.logFormat),
    clientId,
  ];
  const producer = s.producer.enabled
    ? deployment(
        mdp,
        opts,
        'producer',
        s.producer.replicas,
        [
          ...common,
          value('PRODUCER_SOURCE', s.producer.source),
          value('PRODUCER_RATE', s.producer.rate),
          ...(s.producer.symbols?.length ? [value('PRODUCER_SYMBOLS', s.producer.symbols.join(','))] : []),
          value('CREATE_TOPICS', 'false'),
        ],
        s.producer.resources,
        30,
      )
    : undefined;

  const auto = s.aggregator.autoscaling;
  const { minReplicas, maxReplicas } = autoscalingBounds(mdp, opts.observedRawPartitions);
  const aggregator = deployment(
    mdp,
    opts,
    'aggregator',
    auto.mode === 'none' ? s.aggregator.replicas : undefined,
    [
      ...common,
      value('KAFKA_GROUP_ID', s.kafka.groupId),
      value('TOPIC_BARS', s.topics.bars.name),
      value('TOPIC_ALERTS', s.topics.alerts.name),
      value('TOPIC_DLQ', s.topics.dlq.name),
      secret('REDIS_URL', s.redis.secretName, s.redis.key),
      value('REDIS_PREFIX', s.redis.prefix),
      secret('DATABASE_URL', s.database.secretName, s.database.key),
      value('TIMESCALEDB', s.database.timescale),
      value('SHUTDOWN_TIMEOUT', '25s'),
      value('MIGRATE_ON_START', 'true'),
      value('NODE_OPTIONS', aggregatorNodeOptions(undefined)),
    ],
    s.aggregator.resources,
    40,
  );

  let autoscaler: KubeObject | undefined;
  if (auto.mode === 'hpa') {
    autoscaler = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(mdp, n.autoscaler, 'aggregator'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: n.aggregator },
        minReplicas,
        maxReplicas,
        metrics: [
          {
            type: 'External',
            external: {
              metric: {
                name: LAG_METRIC,
                selector: { matchLabels: { [PIPELINE_LABEL]: mdp.metadata.name } },
              },
              target: { type: 'AverageValue', averageValue: String(auto.lagPerReplica) },
            },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Percent', value: 100, periodSeconds: 15 },
              { type: 'Pods', value: 4, periodSeconds: 15 },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: auto.scaleDownStabilizationSeconds,
            selectPolicy: 'Max',
            policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
          },
        },
      },
    };
  } else if (auto.mode === 'keda') {
    autoscaler = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: meta(mdp, n.autoscaler, 'aggregator'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: n.aggregator },
        minReplicaCount: minReplicas,
        maxReplicaCount: maxReplicas,
        advanced: {
          horizontalPodAutoscalerConfig: {
            name: `keda-hpa-${n.autoscaler}`,
            behavior: { scaleDown: { stabilizationWindowSeconds: auto.scaleDownStabilizationSeconds } },
          },
        },
        triggers: [
          {
            type: 'kafka',
            metadata: {
              bootstrapServers: brokers,
              consumerGroup: s.kafka.groupId,
              topic: s.topics.raw.name,
              lagThreshold: String(auto.lagPerReplica),
              activationLagThreshold: String(auto.activationLag),
              offsetResetPolicy: auto.offsetResetPolicy,
              allowIdleConsumers: String(auto.allowIdleConsumers),
              scaleToZeroOnInvalidOffset: String(auto.scaleToZeroOnInvalidOffset),
              excludePersistentLag: String(auto.excludePersistentLag),
            },
          },
        ],
      },
    };
  }
  return { brokers, topics, adminTopics, producer, aggregator, autoscaler, maxReplicas, minReplicas };
}

/** Kinds the operator may have created for a pipeline, for pruning what the spec no longer wants. */
export const PRUNABLE = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', group: 'apps' },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    group: 'autoscaling',
  },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', plural: 'scaledobjects', group: 'keda.sh' },
  { apiVersion: 'kafka.strimzi.io/v1', kind: 'KafkaTopic', plural: 'kafkatopics', group: 'kafka.strimzi.io' },
] as const;
