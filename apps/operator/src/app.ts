// Wiring of `tickflow operator`: informers -> work queue -> reconciler (leader only), the external
// metrics API (every replica), health and metrics endpoints, leader election, shutdown.
import { type HealthServer, type Logger, startHealthServer } from '@tickflow/telemetry';
import type { OperatorConfig } from './config.ts';
import { API_VERSION, defaultedSpec, KIND, type MarketDataPipeline } from './crd.ts';
import { MANAGED_BY } from './desired.ts';
import { SupervisedInformer } from './informers.ts';
import { Kube } from './kube.ts';
import { LeaderElector } from './leader.ts';
import { ensureServingBundle, syncCaBundle } from './metrics-api/apiservice.ts';
import { DEFAULT_LOCAL_SANS, serviceSans } from './metrics-api/certs.ts';
import { LagSource } from './metrics-api/lag-source.ts';
import {
  type MetricsServer,
  type RequestHeaderAuth,
  requestHeaderFromConfigMap,
  sarAuthorizer,
  startMetricsServer,
} from './metrics-api/server.ts';
import { Reconciler } from './reconciler.ts';
import { runWorkers, WorkQueue } from './workqueue.ts';

export interface OperatorHandle {
  kube: Kube;
  reconciler: Reconciler;
  queue: WorkQueue;
  metricsPort: number;
  externalMetricsPort?: number;
  isLeader(): boolean;
  /** Restarts of the supervised informers so far. */
  informerRestarts(): number;
  /** Resolves when the operator stopped on its own (lost leadership): the exit code. */
  done: Promise<number>;
  stop(): Promise<void>;
}

type Meta = {
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    deletionTimestamp?: string;
    ownerReferences?: Array<{ kind: string; name: string; apiVersion: string; controller?: boolean }>;
  };
};

async function loadRequestHeader(kube: Kube, log: Logger, signal: AbortSignal): Promise<RequestHeaderAuth> {
  for (let attempt = 0; ; attempt++) {
    try {
      const cm = await kube.get<{ data?: Record<string, string> }>(
        'v1',
        'ConfigMap',
        'kube-system',
        'extension-apiserver-authentication',
      );
      const rh = requestHeaderFromConfigMap(cm.data ?? {});
      if (rh) return rh;
      throw new Error(
        'kube-system/extension-apiserver-authentication has no requestheader-client-ca-file (is the aggregation layer enabled?)',
      );
    } catch (e) {
      if (signal.aborted) throw e;
      if (attempt % 10 === 0) log.warn('waiting for the request-header CA', { error: (e as Error).message });
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }
}

export async function startOperator(cfg: OperatorConfig, log: Logger): Promise<OperatorHandle> {
  const kube = Kube.fromEnvironment(cfg.kubeconfig);
  const lag = new LagSource({ ttlMs: cfg.lagCacheMs });
  const queue = new WorkQueue();
  const stopping = new AbortController();
  let exitCode = 0;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  const key = (o: Meta) => `${o.metadata.namespace}/${o.metadata.name}`;
  const generations = new Map<string, number | undefined>();
  const pipelines = new SupervisedInformer(
    kube,
    { apiVersion: API_VERSION, kind: KIND, namespace: cfg.watchNamespace },
    (event, obj) => {
      const o = obj as unknown as Meta;
      const k = key(o);
      // status-only updates (our own status writes among them) do not trigger a reconcile
      if (event === 'update' && generations.get(k) === o.metadata.generation && !o.metadata.deletionTimestamp)
        return;
      if (event === 'delete') generations.delete(k);
      else generations.set(k, o.metadata.generation);
      queue.add(k);
    },
    log.child('informer'),
  );
  const ownerHandler = (_event: string, obj: unknown) => {
    const o = obj as Meta;
    for (const ref of o.metadata.ownerReferences ?? []) {
      if (ref.kind === KIND && ref.apiVersion === API_VERSION && ref.controller)
        queue.add(`${o.metadata.namespace}/${ref.name}`);
    }
  };
  const selector = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
  const ownedSpecs = [
    { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', always: true },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      plural: 'horizontalpodautoscalers',
      always: true,
    },
    { apiVersion: 'kafka.strimzi.io/v1', kind: 'KafkaTopic', plural: 'kafkatopics', always: false },
    { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', plural: 'scaledobjects', always: false },
  ];
  const owned = new Map<string, SupervisedInformer>();
  for (const s of ownedSpecs) {
    // optional kinds are watched when their CRDs are installed at start-up (installing later: restart)
    if (!s.always && !(await kube.serves(s.apiVersion, s.plural).catch(() => false))) continue;
    owned.set(
      s.kind,
      new SupervisedInformer(
        kube,
        { apiVersion: s.apiVersion, kind: s.kind, namespace: cfg.watchNamespace, labelSelector: selector },
        ownerHandler,
        log.child('informer'),
      ),
    );
  }
  const reconciler = new Reconciler({
    kube,
    log: log.child('reconciler'),
    pipelines,
    owned,
    lag,
    defaultImage: cfg.defaultImage,
    resyncMs: cfg.resyncMs,
    requeue: (k) => queue.add(k),
  });

  // ---- external metrics API (every replica) ------------------------------------------------------
  let metricsServer: MetricsServer | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  const informersReady = () => pipelines.synced && [...owned.values()].every((i) => i.synced);
  if (cfg.externalMetrics) {
    const sans = [...serviceSans(cfg.metricsService, cfg.namespace), ...DEFAULT_LOCAL_SANS];
    const requestHeader =
      cfg.metricsAuth === 'delegated' ? await loadRequestHeader(kube, log, stopping.signal) : undefined;
    const { bundle } = await ensureServingBundle(kube, cfg.namespace, cfg.servingSecret, sans, new Date());
    metricsServer = await startMetricsServer({
      port: cfg.externalMetricsPort,
      host: cfg.externalMetricsHost,
      tls: bundle.serving,
      requestHeader,
      authorize: requestHeader ? sarAuthorizer(kube) : undefined,
      pipelines: (ns) =>
        (pipelines.list(ns) as unknown as MarketDataPipeline[]).map((p) => ({
          ...p,
          spec: defaultedSpec(p.spec),
        })),
      lag,
      log: log.child('external-metrics'),
    });
    const server = metricsServer;
    let caPem = bundle.ca.certPem;
    const refresh = async () => {
      try {
        const r = await ensureServingBundle(kube, cfg.namespace, cfg.servingSecret, sans, new Date());
        if (r.bundle.serving.certPem !== bundle.serving.certPem || r.changed) {
          server.setTls(r.bundle.serving);
          log.info('serving certificate renewed', { reason: r.reason ?? 'changed by another replica' });
        }
        caPem = r.bundle.ca.certPem;
        if (cfg.manageCaBundle && cfg.apiService) {
          const outcome = await syncCaBundle(kube, cfg.apiService, caPem);
          if (outcome === 'updated') log.info('APIService caBundle updated', { apiService: cfg.apiService });
        }
        if (requestHeader) {
          const rh = await loadRequestHeader(kube, log, stopping.signal);
          if (rh.caPem !== requestHeader.caPem) server.setRequestHeader(rh);
        }
      } catch (e) {
        log.warn('certificate / caBundle refresh failed', { error: (e as Error).message });
      }
    };
    await refresh();
    const loop = () => {
      refreshTimer = setTimeout(async () => {
        await refresh();
        if (!stopping.signal.aborted) loop();
      }, 60_000);
      refreshTimer.unref();
    };
    loop();
    log.info('external metrics API listening', { port: server.port, auth: cfg.metricsAuth });
  }

  // ---- health and metrics ------------------------------------------------------------------------
  let leader: LeaderElector | undefined;
  const isLeader = () => (leader ? leader.isLeader : true);
  const health: HealthServer = await startHealthServer({
    port: cfg.metricsPort,
    ready: informersReady,
    metrics: () => {
      const m = reconciler.metrics;
      const lines = [
        '# TYPE tickflow_operator_reconciles_total counter',
        `tickflow_operator_reconciles_total ${m.reconciles}`,
        '# TYPE tickflow_operator_reconcile_errors_total counter',
        `tickflow_operator_reconcile_errors_total ${m.errors}`,
        '# TYPE tickflow_operator_applies_total counter',
        `tickflow_operator_applies_total ${m.applies}`,
        '# TYPE tickflow_operator_objects_created_total counter',
        `tickflow_operator_objects_created_total ${m.created}`,
        '# TYPE tickflow_operator_objects_deleted_total counter',
        `tickflow_operator_objects_deleted_total ${m.deleted}`,
        '# TYPE tickflow_operator_status_writes_total counter',
        `tickflow_operator_status_writes_total ${m.statusWrites}`,
        '# TYPE tickflow_operator_workqueue_depth gauge',
        `tickflow_operator_workqueue_depth ${queue.length}`,
        '# TYPE tickflow_operator_leader gauge',
        `tickflow_operator_leader ${isLeader() ? 1 : 0}`,
        '# TYPE tickflow_operator_informer_restarts_total counter',
        ...[pipelines, ...owned.values()].map(
          (i) => `tickflow_operator_informer_restarts_total{informer="${i.name}"} ${i.restarts}`,
        ),
        '# TYPE tickflow_operator_pipelines gauge',
        `tickflow_operator_pipelines ${pipelines.list().length}`,
      ];
      for (const [k, v] of Object.entries(metricsServer?.counters ?? {}))
        lines.push(`tickflow_operator_external_metrics_requests_total{outcome="${k}"} ${v}`);
      return `${lines.join('\n')}\n`;
    },
  });

  // ---- informers, then the controller (leader only) ----------------------------------------------
  await Promise.all([pipelines.start(), ...[...owned.values()].map((i) => i.start())]);
  log.info('informers synced', { pipelines: pipelines.list().length, watching: [...owned.keys()].join(',') });

  let workers: Promise<void> | undefined;
  const startWorkers = () => {
    if (workers) return;
    for (const p of pipelines.list()) queue.add(key(p as unknown as Meta));
    workers = runWorkers(
      queue,
      cfg.workers,
      (k) => reconciler.reconcile(k),
      (k, err, retryInMs) =>
        log.warn('reconcile failed', { pipeline: k, retryInMs, error: (err as Error).message }),
    );
  };

  let election: Promise<void> | undefined;
  const stop = async () => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    clearTimeout(refreshTimer);
    queue.shutDown();
    await workers;
    await election;
    await leader?.release();
    await Promise.all([pipelines.stop(), ...[...owned.values()].map((i) => i.stop())]);
    await metricsServer?.close();
    await health.close();
    kube.close();
    resolveDone(exitCode);
  };

  if (cfg.leaderElect) {
    leader = new LeaderElector(kube, log.child('leader'), {
      namespace: cfg.namespace,
      name: cfg.leaseName,
      identity: cfg.identity,
    });
    election = leader.run(stopping.signal, startWorkers, () => {
      exitCode = 1;
      void stop();
    });
  } else {
    startWorkers();
  }

  return {
    kube,
    reconciler,
    queue,
    metricsPort: health.port,
    externalMetricsPort: metricsServer?.port,
    isLeader,
    informerRestarts: () => [pipelines, ...owned.values()].reduce((n, i) => n + i.restarts, 0),
    done,
    stop,
  };
}
