// The MarketDataPipeline CustomResourceDefinition, generated from this one definition:
// `node apps/operator/scripts/write-crd.ts` writes charts/tickflow/crds/marketdatapipelines.yaml and a
// unit test fails when that file is stale. The TypeScript types of the (defaulted) spec sit next to
// the schema they describe.
import { stringify } from 'yaml';
import {
  applyDefaults,
  arr,
  bool,
  int,
  type JsonSchema,
  materializeDefaults,
  obj,
  oneOf,
  rule,
  str,
} from './schema.ts';

export const GROUP = 'tickflow.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'MarketDataPipeline';
export const PLURAL = 'marketdatapipelines';
export const SINGULAR = 'marketdatapipeline';
export const SHORT_NAMES = ['mdp'];
export const CRD_NAME = `${PLURAL}.${GROUP}`;

// ---- types of the spec after API-server defaulting ----------------------------------------------

export type AutoscalingMode = 'hpa' | 'keda' | 'none';
export type OffsetResetPolicy = 'earliest' | 'latest';

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicas: number;
  /** e.g. 24h, 7d, 30m */
  retention: string;
}

export interface AutoscalingSpec {
  mode: AutoscalingMode;
  lagPerReplica: number;
  activationLag: number;
  minReplicas: number;
  maxReplicas: number;
  scaleDownStabilizationSeconds: number;
  offsetResetPolicy: OffsetResetPolicy;
  allowIdleConsumers: boolean;
  scaleToZeroOnInvalidOffset: boolean;
  excludePersistentLag: boolean;
}

export interface MarketDataPipelineSpec {
  image?: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  serviceAccountName?: string;
  kafka: { strimziCluster?: string; bootstrapServers?: string; groupId: string };
  topics: { raw: TopicSpec; bars: TopicSpec; alerts: TopicSpec; dlq: TopicSpec };
  producer: {
    enabled: boolean;
    replicas: number;
    source: 'synthetic' | 'binance' | 'finnhub';
    rate: string;
    symbols?: string[];
    resources: ResourceRequirements;
  };
  aggregator: {
    replicas: number;
    resources: ResourceRequirements;
    autoscaling: AutoscalingSpec;
  };
  redis: { secretName: string; key: string; prefix: string };
  database: { secretName: string; key: string; timescale: 'auto' | 'require' | 'off' };
  telemetry: { metricsPort: number; logFormat: 'json' | 'text' };
}

export interface Condition {
  type: 'Ready' | 'Progressing' | 'Degraded' | string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface MarketDataPipelineStatus {
  phase?: 'Pending' | 'Progressing' | 'Ready' | 'Degraded';
  observedGeneration?: number;
  conditions?: Condition[];
  lag?: number;
  aggregatorReplicas?: number;
  maxAggregatorReplicas?: number;
  brokers?: string;
  autoscaler?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface MarketDataPipeline {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: MarketDataPipelineSpec;
  status?: MarketDataPipelineStatus;
}

// ---- the schema ----------------------------------------------------------------------------------

const quantity: JsonSchema = {
  'x-kubernetes-int-or-string': true,
  description: 'a resource quantity, e.g. 250m, 1, 512Mi',
};
const resources = (requestsCpu: string, requestsMemory: string, limitsMemory: string): JsonSchema =>
  obj(
    {
      requests: { type: 'object', additionalProperties: quantity, maxProperties: 8 },
      limits: { type: 'object', additionalProperties: quantity, maxProperties: 8 },
    },
    {
      description: 'container resources (requests and limits)',
      default: { requests: { cpu: requestsCpu, memory: requestsMemory }, limits: { memory: limitsMemory } },
    },
  );

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const TOPIC_NAME = '^[a-zA-Z0-9._-]{1,249}$';
const RETENTION = '^[1-9][0-9]{0,8}(ms|s|m|h|d)$';

const topic = (name: string, partitions: number, retention: string, description: string): JsonSchema =>
  obj(
    {
      name: str('Kafka topic name', { default: name, pattern: TOPIC_NAME }),
      partitions: int('partitions: they can grow, never shrink', 1, 1000, {
        default: partitions,
        'x-kubernetes-validations': [rule('self >= oldSelf', 'partitions can only grow, never shrink')],
      }),
      replicas: int('replication factor', 1, 10, { default: 1 }),
      retention: str('retention (retention.ms), e.g. 24h, 7d', { default: retention, pattern: RETENTION }),
    },
    { description, default: {} },
  );

export const specSchema: JsonSchema = materializeDefaults(
  obj(
    {
      image: str('container image of producer and aggregators (default: the operator --default-image)', {
        maxLength: 512,
        minLength: 1,
      }),
      imagePullPolicy: oneOf('image pull policy', ['Always', 'IfNotPresent', 'Never'], 'IfNotPresent'),
      serviceAccountName: str('ServiceAccount of the pipeline pods (default: the namespace default)', {
        pattern: DNS_LABEL,
        maxLength: 253,
      }),
      kafka: obj(
        {
          strimziCluster: str(
            'name of a Strimzi Kafka in this namespace: topics become KafkaTopic resources',
            {
              pattern: DNS_LABEL,
              maxLength: 63,
            },
          ),
          bootstrapServers: str(
            'host:port[,host:port...] of a Kafka without Strimzi: the operator creates missing topics itself',
            {
              pattern: '^[A-Za-z0-9._\\-\\[\\]:]+:[0-9]{1,5}(,[A-Za-z0-9._\\-\\[\\]:]+:[0-9]{1,5})*$',
              maxLength: 2048,
            },
          ),
          groupId: str('consumer group of the aggregators', {
            default: 'tickflow-aggregators',
            minLength: 1,
            maxLength: 249,
          }),
        },
        {
          description: 'where Kafka is: exactly one of strimziCluster and bootstrapServers',
          'x-kubernetes-validations': [
            rule(
              'has(self.strimziCluster) != has(self.bootstrapServers)',
              'set exactly one of kafka.strimziCluster and kafka.bootstrapServers',
            ),
          ],
        },
      ),
      topics: obj(
        {
          raw: topic(
            'raw-market-data',
            6,
            '24h',
            'trades (the aggregators\u2019 input; partitions bound their parallelism)',
          ),
          bars: topic('aggregated-metrics', 6, '7d', 'closed bars'),
          alerts: topic('price-alerts', 3, '7d', 'price alerts'),
          dlq: topic('dead-letter-queue', 1, '7d', 'dead letters'),
        },
        {
          default: {},
          'x-kubernetes-validations': [
            rule(
              'self.raw.name != self.bars.name && self.raw.name != self.alerts.name && self.raw.name != self.dlq.name && self.bars.name != self.alerts.name && self.bars.name != self.dlq.name && self.alerts.name != self.dlq.name',
              'topic names must differ',
            ),
          ],
        },
      ),
      producer: obj(
        {
          enabled: bool('run the producer Deployment', true),
          replicas: int('producer replicas', 0, 50, { default: 1 }),
          source: oneOf('trade source', ['synthetic', 'binance', 'finnhub'], 'synthetic'),
          rate: str('messages per second per replica, or max', {
            default: '1000',
            pattern: '^(max|[1-9][0-9]{0,8})$',
          }),
          symbols: arr(
            'symbols (default: the producer\u2019s built-in list)',
            str('symbol', { pattern: '^[A-Z0-9][A-Z0-9._:/-]{0,31}$' }),
            {
              maxItems: 500,
              'x-kubernetes-list-type': 'set',
            },
          ),
          resources: resources('100m', '128Mi', '512Mi'),
        },
        { default: {} },
      ),
      aggregator: obj(
        {
          replicas: int('aggregator replicas when autoscaling.mode is none (ignored otherwise)', 0, 1000, {
            default: 2,
          }),
          resources: resources('250m', '256Mi', '1Gi'),
          autoscaling: obj(
            {
              mode: oneOf(
                'hpa: an HPA on the operator\u2019s external metric; keda: a KEDA ScaledObject; none: spec.aggregator.replicas',
                ['hpa', 'keda', 'none'],
                'none',
              ),
              lagPerReplica: int(
                'target consumer lag per aggregator (HPA AverageValue, KEDA lagThreshold)',
                1,
                1_000_000_000,
                {
                  default: 1000,
                },
              ),
              activationLag: int(
                'KEDA activationLagThreshold: the lag above which the group counts as active',
                0,
                1_000_000_000,
                {
                  default: 0,
                },
              ),
              minReplicas: int('fewest aggregators', 1, 1000, { default: 1 }),
              maxReplicas: int('most aggregators (capped at the raw topic\u2019s partitions)', 1, 1000, {
                default: 6,
              }),
              scaleDownStabilizationSeconds: int('scale-down stabilization window', 0, 3600, {
                default: 300,
              }),
              offsetResetPolicy: oneOf(
                'what a partition without a committed offset counts as (the aggregators start at earliest)',
                ['earliest', 'latest'],
                'earliest',
              ),
              allowIdleConsumers: bool('allow more aggregators than partitions (they sit idle)', false),
              scaleToZeroOnInvalidOffset: bool(
                'a partition without a committed offset counts as lag 0',
                false,
              ),
              excludePersistentLag: bool(
                'ignore partitions whose committed offset did not move since the last query',
                false,
              ),
            },
            {
              default: {},
              'x-kubernetes-validations': [
                rule(
                  'self.minReplicas <= self.maxReplicas',
                  'autoscaling.minReplicas must not exceed maxReplicas',
                ),
              ],
            },
          ),
        },
        { default: {} },
      ),
      redis: obj(
        {
          secretName: str('Secret holding the Redis URL', { pattern: DNS_LABEL, maxLength: 253 }),
          key: str('key of the URL in that Secret', { default: 'REDIS_URL', minLength: 1, maxLength: 253 }),
          prefix: str('Redis key prefix', { default: 'tickflow:', minLength: 1, maxLength: 64 }),
        },
        { required: ['secretName'] },
      ),
      database: obj(
        {
          secretName: str('Secret holding the PostgreSQL/TimescaleDB URL', {
            pattern: DNS_LABEL,
            maxLength: 253,
          }),
          key: str('key of the URL in that Secret', {
            default: 'DATABASE_URL',
            minLength: 1,
            maxLength: 253,
          }),
          timescale: oneOf('TIMESCALEDB', ['auto', 'require', 'off'], 'auto'),
        },
        { required: ['secretName'] },
      ),
      telemetry: obj(
        {
          metricsPort: int('port of /healthz, /readyz and /metrics in the pipeline pods', 1024, 65535, {
            default: 9464,
          }),
          logFormat: oneOf('log format', ['json', 'text'], 'json'),
        },
        { default: {} },
      ),
    },
    { required: ['kafka', 'redis', 'database'] },
  ),
);

const condition: JsonSchema = obj(
  {
    type: str('condition type', { maxLength: 316 }),
    status: oneOf('status', ['True', 'False', 'Unknown']),
    reason: str('CamelCase reason', { maxLength: 1024 }),
    message: str('human-readable message', { maxLength: 32768 }),
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
  { required: ['type', 'status', 'lastTransitionTime'] },
);

export const statusSchema: JsonSchema = obj({
  phase: oneOf('Pending, Progressing, Ready or Degraded', ['Pending', 'Progressing', 'Ready', 'Degraded']),
  observedGeneration: {
    type: 'integer',
    format: 'int64',
    description: 'the generation the status describes',
  },
  conditions: arr('Ready, Progressing, Degraded', condition, {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  }),
  lag: {
    type: 'integer',
    format: 'int64',
    description: 'consumer lag of the aggregators\u2019 group (KEDA semantics)',
  },
  aggregatorReplicas: {
    type: 'integer',
    format: 'int32',
    description: 'aggregator replicas (Deployment status)',
  },
  maxAggregatorReplicas: {
    type: 'integer',
    format: 'int32',
    description: 'effective autoscaling maximum: maxReplicas capped at the raw topic\u2019s partitions',
  },
  brokers: str('bootstrap servers in use'),
  autoscaler: str('kind/name of the autoscaler object, if any'),
});

/** The CustomResourceDefinition object. */
export function crd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/part-of': 'tickflow', 'app.kubernetes.io/component': 'operator' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: ['tickflow'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Lag', type: 'integer', jsonPath: '.status.lag' },
            { name: 'Aggregators', type: 'integer', jsonPath: '.status.aggregatorReplicas' },
            { name: 'Autoscaling', type: 'string', jsonPath: '.spec.aggregator.autoscaling.mode' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: obj(
              {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema,
                status: statusSchema,
              },
              {
                description:
                  'A Tickflow market-data pipeline: topics, producer, aggregators and their autoscaler',
                required: ['spec'],
              },
            ),
          },
        },
      ],
    },
  };
}

export const CRD_HEADER = `# Generated by apps/operator/scripts/write-crd.ts from apps/operator/src/crd.ts; do not edit.
# Helm installs files under crds/ before the templates and never upgrades or deletes them:
# kubectl apply --server-side -f charts/tickflow/crds/ after a chart upgrade that changes it.
`;

export function crdYaml(): string {
  return `${CRD_HEADER}${stringify(crd(), { lineWidth: 0 })}`;
}

/** The spec as the API server stores it: schema defaults applied. */
export function defaultedSpec(spec: unknown): MarketDataPipelineSpec {
  return applyDefaults(specSchema, spec ?? {}) as MarketDataPipelineSpec;
}
