// Level-triggered reconcile of one MarketDataPipeline: read the object from the informer cache, build the
// desired objects (desired.ts, pure), server-side apply each with the fixed field manager (a no-op apply
// writes nothing), delete what the spec no longer wants (only objects this pipeline controls), observe,
// and write the status subresource when it changed. Every step is idempotent: a restarted operator
// re-runs it and converges without creating, updating or announcing anything twice.
import { ensureTopics } from '@tickflow/kafka';
import type { Logger } from '@tickflow/telemetry';
import {
  API_VERSION,
  defaultedSpec,
  KIND,
  type MarketDataPipeline,
  type MarketDataPipelineStatus,
} from './crd.ts';
import {
  type DesiredState,
  desiredState,
  FIELD_MANAGER,
  HANDOFF_FIELD_MANAGER,
  type KubeObject,
  names,
} from './desired.ts';
import type { SupervisedInformer } from './informers.ts';
import { type Kube, KubeError } from './kube.ts';
import type { LagSource } from './metrics-api/lag-source.ts';
import { computeStatus, type DeploymentObservation, statusChanged } from './status.ts';

export interface ReconcilerDeps {
  kube: Kube;
  log: Logger;
  pipelines: SupervisedInformer;
  /** Informer caches of the owned kinds (by kind), used to tell creations from updates. */
  owned: Map<string, SupervisedInformer>;
  lag: LagSource;
  defaultImage: string;
  /** Kafka topics through the admin API (injectable for tests). */
  ensureAdminTopics?: typeof ensureTopics;
  now?: () => Date;
  /** Requeue period while everything is settled (lag refresh in the status). */
  resyncMs?: number;
  /** Requeue period while something is progressing. */
  progressMs?: number;
  /** Age after which the status lag is refreshed (in the background). */
  lagMaxAgeMs?: number;
  /** Queues a pipeline again (a fresh lag reading arrived). */
  requeue?: (key: string) => void;
}

export interface ReconcileMetrics {
  reconciles: number;
  errors: number;
  applies: number;
  created: number;
  deleted: number;
  statusWrites: number;
  events: number;
}

type Obj = KubeObject & {
  metadata: KubeObject['metadata'] & {
    uid?: string;
    resourceVersion?: string;
    managedFields?: Array<{ manager: string; fieldsV1?: Record<string, unknown> }>;
  };
};

function ownsField(obj: Obj | undefined, manager: string, path: string[]): boolean {
  const entry = obj?.metadata.managedFields?.find(
    (m) => m.manager === manager && (m as { operation?: string }).operation === 'Apply',
  );
  let node: unknown = entry?.fieldsV1;
  for (const p of path) {
    node = (node as Record<string, unknown> | undefined)?.[`f:${p}`];
    if (node === undefined) return false;
  }
  return true;
}

export class Reconciler {
  readonly metrics: ReconcileMetrics = {
    reconciles: 0,
    errors: 0,
    applies: 0,
    created: 0,
    deleted: 0,
    statusWrites: 0,
    events: 0,
  };
  private readonly d: ReconcilerDeps;
  private readonly lastError = new Map<string, string>();
  private readonly lastLagError = new Map<string, string>();
  private readonly adminTopicsDone = new Map<string, { wanted: string; at: number }>();
  private readonly servedCache = new Map<string, { at: number; served: boolean }>();

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
  }

  private now(): Date {
    return this.d.now?.() ?? new Date();
  }

  private async served(apiVersion: string, plural: string): Promise<boolean> {
    const key = `${apiVersion}/${plural}`;
    const hit = this.servedCache.get(key);
    // a kind that is missing is checked again soon (a CRD installed later is picked up quickly)
    if (hit && Date.now() - hit.at < (hit.served ? 60_000 : 5_000)) return hit.served;
    const served = await this.d.kube.serves(apiVersion, plural);
    this.servedCache.set(key, { at: Date.now(), served });
    return served;
  }

  /** Records an Event on the pipeline (best effort). */
  async event(
    mdp: MarketDataPipeline,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = this.now().toISOString();
    try {
      await this.d.kube.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${mdp.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
          namespace: mdp.metadata.namespace,
        },
        involvedObject: {
          apiVersion: API_VERSION,
          kind: KIND,
          name: mdp.metadata.name,
          namespace: mdp.metadata.namespace,
          uid: mdp.metadata.uid,
          resourceVersion: mdp.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER,
        reportingInstance: FIELD_MANAGER,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      this.metrics.events++;
    } catch (e) {
      this.d.log.warn('could not record an event', { reason, error: (e as Error).message });
    }
  }

  private cached(kind: string, namespace: string, name: string): Obj | undefined {
    return this.d.owned.get(kind)?.get(name, namespace) as Obj | undefined;
  }

  private async applyObject(mdp: MarketDataPipeline, obj: KubeObject): Promise<Obj> {
    const before =
      this.cached(obj.kind, obj.metadata.namespace as string, obj.metadata.name) ??
      (await this.d.kube.find<Obj>(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name));
    if (before && !this.controlledBy(before, mdp)) {
      throw new KubeError(
        409,
        'NotOwned',
        `${obj.kind} ${obj.metadata.name} exists and is not controlled by this pipeline`,
        undefined,
      );
    }
    const after = await this.d.kube.apply<Obj>(obj as never);
    this.metrics.applies++;
    if (!before) {
      this.metrics.created++;
      await this.event(mdp, 'Normal', 'Created', `created ${obj.kind} ${obj.metadata.name}`);
    } else if (
      before.metadata.resourceVersion !== after.metadata.resourceVersion &&
      this.isSpecChange(before, after)
    ) {
      await this.event(mdp, 'Normal', 'Updated', `updated ${obj.kind} ${obj.metadata.name}`);
    }
    return after;
  }

  /** Spec differences other than the replica count (which an autoscaler changes on its own). */
  private isSpecChange(a: Obj, b: Obj): boolean {
    const strip = (o: Obj) => {
      const { replicas: _r, ...rest } = ((o as Record<string, unknown>).spec ?? {}) as Record<
        string,
        unknown
      >;
      return JSON.stringify(rest);
    };
    return strip(a) !== strip(b);
  }

  private controlledBy(obj: Obj, mdp: MarketDataPipeline): boolean {
    return !!obj.metadata.ownerReferences?.some((r) => r.uid === mdp.metadata.uid && r.controller === true);
  }

  /** Deletes an object of this pipeline that the spec no longer wants (never one it does not control). */
  private async deleteIfOwned(
    mdp: MarketDataPipeline,
    apiVersion: string,
    kind: string,
    name: string,
  ): Promise<void> {
    const ns = mdp.metadata.namespace as string;
    const live =
      this.cached(kind, ns, name) ??
      (await this.d.kube.find<Obj>(apiVersion, kind, ns, name).catch(() => undefined));
    if (!live || !this.controlledBy(live, mdp)) return;
    if (await this.d.kube.delete(apiVersion, kind, ns, name)) {
      this.metrics.deleted++;
      await this.event(mdp, 'Normal', 'Deleted', `deleted ${kind} ${name} (no longer in the spec)`);
    }
  }

  /**
   * Before an autoscaler takes the replica count over: when our field manager owns spec.replicas, a
   * handoff manager first co-owns it at its live value, so the apply without replicas that follows does
   * not reset the Deployment to 1 (server-side apply removes a field its last applier drops).
   */
  private async handOffReplicas(mdp: MarketDataPipeline, d: DesiredState): Promise<void> {
    const name = d.aggregator.metadata.name;
    const live =
      this.cached('Deployment', mdp.metadata.namespace as string, name) ??
      (await this.d.kube.find<Obj>('apps/v1', 'Deployment', mdp.metadata.namespace, name));
    if (!live || !ownsField(live, FIELD_MANAGER, ['spec', 'replicas'])) return;
    const replicas = (live as { spec?: { replicas?: number } }).spec?.replicas ?? 1;
    await this.d.kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: mdp.metadata.namespace },
        spec: { replicas },
      } as never,
      { fieldManager: HANDOFF_FIELD_MANAGER },
    );
    this.d.log.info('handed the aggregator replica count over to the autoscaler', {
      pipeline: mdp.metadata.name,
      replicas,
    });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    this.metrics.reconciles++;
    const [namespace, name] = key.split('/') as [string, string];
    const cachedMdp = this.d.pipelines.get(name, namespace) as unknown as MarketDataPipeline | undefined;
    if (!cachedMdp) {
      // deleted: its objects carry owner references, the garbage collector removes them
      this.d.lag.forget(namespace, name);
      this.lastError.delete(key);
      this.lastLagError.delete(key);
      this.adminTopicsDone.delete(key);
      return undefined;
    }
    if (cachedMdp.metadata.deletionTimestamp) return undefined;
    const mdp: MarketDataPipeline = { ...cachedMdp, spec: defaultedSpec(cachedMdp.spec) };
    const generation = mdp.metadata.generation ?? 0;

    let error: { reason: string; message: string } | undefined;
    const topicsPending: string[] = [];
    const deployments: DeploymentObservation[] = [];
    let aggregatorReplicas: number | undefined;
    let lag: number | undefined;
    let observedRawPartitions: number | undefined;
    let desired: DesiredState | undefined;
    const step = async (reason: string, fn: () => Promise<void>) => {
      if (error) return;
      try {
        await fn();
      } catch (e) {
        error = { reason, message: (e as Error).message };
      }
    };

    await step('InvalidSpec', async () => {
      desired = desiredState(mdp, { defaultImage: this.d.defaultImage });
    });
    // topics first: consumers and producers need them
    await step('TopicsFailed', async () => {
      const d = desired as DesiredState;
      if (mdp.spec.kafka.strimziCluster) {
        if (!(await this.served('kafka.strimzi.io/v1', 'kafkatopics')))
          throw new Error(
            'kafka.strimzi.io/v1 KafkaTopic is not served: install Strimzi (>= 1.0) or use kafka.bootstrapServers',
          );
        for (const t of d.topics) {
          const live = await this.applyObject(mdp, t);
          const ready = (
            (live as { status?: { conditions?: Array<{ type: string; status: string }> } }).status
              ?.conditions ?? []
          ).some((c) => c.type === 'Ready' && c.status === 'True');
          if (!ready) topicsPending.push(t.metadata.name);
        }
      } else {
        // checked again at most once a minute per pipeline and topic set (each check is a Kafka round trip)
        const wanted = JSON.stringify([d.brokers, d.adminTopics]);
        const done = this.adminTopicsDone.get(key);
        if (!done || done.wanted !== wanted || Date.now() - done.at > 60_000) {
          await (this.d.ensureAdminTopics ?? ensureTopics)(
            d.brokers,
            d.adminTopics.map((t) => ({
              topic: t.topic,
              partitions: t.partitions,
              replicationFactor: t.replicationFactor,
              config: t.config,
            })),
          );
          this.adminTopicsDone.set(key, { wanted, at: Date.now() });
        }
      }
    });
    // lag (status only): the last reading, refreshed in the background; never waits for Kafka and
    // never blocks the objects (a new reading requeues the pipeline)
    if (!error) {
      const reading = this.d.lag.peek(mdp, this.d.lagMaxAgeMs ?? 5_000, () => this.d.requeue?.(key));
      if (reading.result) {
        lag = reading.result.lag;
        observedRawPartitions = reading.result.partitions;
        desired = desiredState(mdp, { defaultImage: this.d.defaultImage, observedRawPartitions });
      }
      if (reading.error && reading.error !== this.lastLagError.get(key)) {
        this.lastLagError.set(key, reading.error);
        this.d.log.warn('lag unavailable', { pipeline: key, error: reading.error });
      }
    }
    await step('ApplyFailed', async () => {
      const d = desired as DesiredState;
      const n = names(name);
      if (d.producer) {
        const live = await this.applyObject(mdp, d.producer);
        deployments.push(this.observeDeployment(live));
      } else {
        await this.deleteIfOwned(mdp, 'apps/v1', 'Deployment', n.producer);
      }
      if (mdp.spec.aggregator.autoscaling.mode !== 'none') await this.handOffReplicas(mdp, d);
      const agg = await this.applyObject(mdp, d.aggregator);
      const obs = this.observeDeployment(agg);
      deployments.push(obs);
      aggregatorReplicas = (agg as { status?: { replicas?: number } }).status?.replicas ?? 0;

      const mode = mdp.spec.aggregator.autoscaling.mode;
      if (mode === 'keda' && !(await this.served('keda.sh/v1alpha1', 'scaledobjects')))
        throw new Error(
          'autoscaling.mode keda: keda.sh/v1alpha1 ScaledObject is not served (is KEDA installed?)',
        );
      if (d.autoscaler) await this.applyObject(mdp, d.autoscaler);
      if (mode !== 'hpa')
        await this.deleteIfOwned(mdp, 'autoscaling/v2', 'HorizontalPodAutoscaler', n.autoscaler);
      if (mode !== 'keda' && (await this.served('keda.sh/v1alpha1', 'scaledobjects')))
        await this.deleteIfOwned(mdp, 'keda.sh/v1alpha1', 'ScaledObject', n.autoscaler);
    });

    const status = computeStatus(
      mdp.status,
      {
        generation,
        error,
        topicsPending,
        deployments,
        lag,
        aggregatorReplicas,
        maxAggregatorReplicas: desired?.maxReplicas,
        brokers: desired?.brokers,
        autoscaler: desired?.autoscaler
          ? `${desired.autoscaler.kind}/${desired.autoscaler.metadata.name}`
          : undefined,
      },
      this.now(),
    );
    if (statusChanged(mdp.status, status)) await this.writeStatus(mdp, status);

    if (error) {
      this.metrics.errors++;
      if (this.lastError.get(key) !== error.message) {
        this.lastError.set(key, error.message);
        await this.event(mdp, 'Warning', error.reason, error.message);
      }
      // retried by the work queue with backoff
      throw new Error(`${error.reason}: ${error.message}`);
    }
    this.lastError.delete(key);
    return {
      requeueAfterMs: status.phase === 'Ready' ? (this.d.resyncMs ?? 30_000) : (this.d.progressMs ?? 10_000),
    };
  }

  private observeDeployment(live: Obj): DeploymentObservation {
    const l = live as unknown as {
      metadata: { name: string; generation?: number };
      spec?: { replicas?: number };
      status?: {
        observedGeneration?: number;
        replicas?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
      };
    };
    return {
      name: l.metadata.name,
      generation: l.metadata.generation,
      observedGeneration: l.status?.observedGeneration,
      desired: l.spec?.replicas ?? 1,
      replicas: l.status?.replicas,
      updatedReplicas: l.status?.updatedReplicas,
      availableReplicas: l.status?.availableReplicas,
    };
  }

  private async writeStatus(mdp: MarketDataPipeline, status: MarketDataPipelineStatus): Promise<void> {
    await this.d.kube.apply(
      {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: mdp.metadata.name, namespace: mdp.metadata.namespace },
        status,
      } as never,
      { subresource: 'status' },
    );
    this.metrics.statusWrites++;
  }
}
