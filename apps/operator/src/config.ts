import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fields, helpText, loadConfig } from '@tickflow/config';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function ownNamespace(): string {
  try {
    if (existsSync(SA_NAMESPACE_FILE)) return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    // not in a pod
  }
  return 'default';
}

export const operatorConfigSpec = {
  kubeconfig: {
    env: 'KUBECONFIG',
    flag: 'kubeconfig',
    schema: fields.optionalString(),
    help: 'kubeconfig file (default: in-cluster service account, else ~/.kube/config)',
  },
  watchNamespace: {
    env: 'WATCH_NAMESPACE',
    flag: 'watch-namespace',
    schema: fields.optionalString(),
    help: 'reconcile MarketDataPipelines of this namespace only (default: all namespaces)',
  },
  namespace: {
    env: 'POD_NAMESPACE',
    flag: 'namespace',
    schema: fields.optionalString(),
    help: "the operator's own namespace: leader Lease and serving-certificate Secret (default: the pod's, else default)",
  },
  identity: {
    env: 'POD_NAME',
    flag: 'identity',
    schema: fields.optionalString(),
    help: 'leader-election identity (default: <hostname>-<pid>)',
  },
  defaultImage: {
    env: 'OPERATOR_DEFAULT_IMAGE',
    flag: 'default-image',
    schema: fields.string('tickflow:0.1.0'),
    help: 'image of pipelines that name none',
  },
  leaderElect: {
    env: 'LEADER_ELECT',
    flag: 'leader-elect',
    schema: fields.boolean(true),
    help: 'elect a leader on a Lease (only the leader reconciles; every replica serves metrics)',
  },
  leaseName: {
    env: 'LEASE_NAME',
    flag: 'lease-name',
    schema: fields.string('tickflow-operator'),
    help: 'name of the leader-election Lease',
  },
  workers: {
    env: 'OPERATOR_WORKERS',
    flag: 'workers',
    schema: fields.integer(2, 1, 32),
    help: 'pipelines reconciled concurrently',
  },
  resyncMs: {
    env: 'OPERATOR_RESYNC',
    flag: 'resync',
    schema: fields.durationMs(30_000, 1000),
    help: 'how often a settled pipeline is reconciled again (refreshes status.lag)',
  },
  metricsPort: {
    env: 'METRICS_PORT',
    flag: 'metrics-port',
    schema: fields.integer(8080, 0, 65535),
    help: 'HTTP port of /healthz, /readyz and /metrics (0: any free port)',
  },
  externalMetrics: {
    env: 'EXTERNAL_METRICS',
    flag: 'external-metrics',
    schema: fields.boolean(true),
    help: 'serve external.metrics.k8s.io (kafka_consumergroup_lag) for autoscaling.mode hpa',
  },
  externalMetricsPort: {
    env: 'EXTERNAL_METRICS_PORT',
    flag: 'external-metrics-port',
    schema: fields.integer(6443, 0, 65535),
    help: 'HTTPS port of the external metrics API (0: any free port)',
  },
  externalMetricsHost: {
    env: 'EXTERNAL_METRICS_HOST',
    flag: 'external-metrics-host',
    schema: fields.string('0.0.0.0'),
    help: 'address the external metrics API listens on',
  },
  metricsAuth: {
    env: 'EXTERNAL_METRICS_AUTH',
    flag: 'external-metrics-auth',
    schema: fields.oneOf(['delegated', 'none'] as const, 'delegated'),
    help: 'delegated: front-proxy client certificate + SubjectAccessReview; none: no checks (debugging only)',
  },
  metricsService: {
    env: 'EXTERNAL_METRICS_SERVICE',
    flag: 'external-metrics-service',
    schema: fields.string('tickflow-operator'),
    help: 'Service in front of the external metrics API (names in the serving certificate)',
  },
  servingSecret: {
    env: 'EXTERNAL_METRICS_SECRET',
    flag: 'external-metrics-secret',
    schema: fields.string('tickflow-operator-metrics-tls'),
    help: 'Secret holding the generated CA and serving certificate',
  },
  apiService: {
    env: 'EXTERNAL_METRICS_APISERVICE',
    flag: 'external-metrics-apiservice',
    schema: fields.string('v1beta1.external.metrics.k8s.io'),
    help: 'APIService whose caBundle the operator keeps current (empty: leave it alone)',
  },
  manageCaBundle: {
    env: 'EXTERNAL_METRICS_MANAGE_CABUNDLE',
    flag: 'manage-ca-bundle',
    schema: fields.boolean(true),
    help: "keep the APIService's caBundle equal to the generated CA",
  },
  lagCacheMs: {
    env: 'LAG_CACHE',
    flag: 'lag-cache',
    schema: fields.durationMs(2000, 0),
    help: 'how long a lag reading is reused',
  },
};

export type OperatorConfig = ReturnType<typeof loadOperatorConfig>;

export function loadOperatorConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadConfig(operatorConfigSpec, argv, env);
  // defaults that depend on where the process runs stay out of the spec (and so out of generated docs)
  return {
    ...cfg,
    namespace: cfg.namespace ?? ownNamespace(),
    identity: cfg.identity ?? `${hostname()}-${process.pid}`,
  };
}

export const operatorHelp = `tickflow operator: reconciles MarketDataPipeline resources (tickflow.dev/v1alpha1) and serves the
kafka_consumergroup_lag external metric for their HorizontalPodAutoscalers.

Usage: tickflow operator [flags]

${helpText(operatorConfigSpec)}
`;
