// The reconciler against an in-memory API (no cluster): ownership rules, the replica hand-off to an
// autoscaler, idempotence (a second pass creates and announces nothing), status writes only on change.
import { createLogger } from '@tickflow/telemetry';
import { describe, expect, it } from 'vitest';
import { defaultedSpec, type MarketDataPipeline } from '../src/crd.ts';
import type { SupervisedInformer } from '../src/informers.ts';
import { type Kube, KubeError } from '../src/kube.ts';
import { LagSource } from '../src/metrics-api/lag-source.ts';
import { Reconciler } from '../src/reconciler.ts';

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

/** Enough of the API server for the reconciler: apply merges, remembers managers of spec.replicas. */
class FakeKube {
  objects = new Map<string, Obj>();
  calls: string[] = [];
  rv = 1;
  key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

  async apply(obj: Obj, opts: { fieldManager?: string; subresource?: string } = {}): Promise<Obj> {
    const manager = opts.fieldManager ?? 'tickflow-operator';
    this.calls.push(
      `apply ${obj.kind}/${obj.metadata.name}${opts.subresource ? `/${opts.subresource}` : ''} ${manager}`,
    );
    const k = this.key(obj.kind, obj.metadata.namespace, obj.metadata.name);
    const old = this.objects.get(k);
    if (opts.subresource === 'status') {
      const next = { ...(old as Obj), status: obj.status };
      this.objects.set(k, next);
      return next;
    }
    const spec = {
      ...((old?.spec as Record<string, unknown>) ?? {}),
      ...((obj.spec as Record<string, unknown>) ?? {}),
    };
    const managers = new Set<string>(
      ((old?.metadata as { replicaManagers?: string[] })?.replicaManagers ?? []) as string[],
    );
    if (obj.spec && 'replicas' in (obj.spec as object)) managers.add(manager);
    else if (manager === 'tickflow-operator') {
      managers.delete(manager);
      if (managers.size === 0) delete spec.replicas; // SSA drops a field its last owner stopped applying
    }
    const changed = JSON.stringify(old?.spec) !== JSON.stringify(spec);
    const next: Obj = {
      ...(old ?? {}),
      ...obj,
      spec,
      metadata: {
        ...(old?.metadata ?? {}),
        ...obj.metadata,
        uid: (old?.metadata.uid as string) ?? `uid-${this.rv}`,
        resourceVersion: changed || !old ? String(++this.rv) : old.metadata.resourceVersion,
        replicaManagers: [...managers],
        managedFields: [
          {
            manager: 'tickflow-operator',
            operation: 'Apply',
            fieldsV1: managers.has('tickflow-operator')
              ? { 'f:spec': { 'f:replicas': {} } }
              : { 'f:spec': {} },
          },
        ],
      },
    };
    this.objects.set(k, next);
    return next;
  }
  async find(_v: string, kind: string, ns: string | undefined, name: string) {
    return this.objects.get(this.key(kind, ns, name));
  }
  async delete(_v: string, kind: string, ns: string | undefined, name: string) {
    this.calls.push(`delete ${kind}/${name}`);
    return this.objects.delete(this.key(kind, ns, name));
  }
  async create(obj: Obj) {
    this.calls.push(`create ${obj.kind} ${(obj as { reason?: string }).reason ?? ''}`.trim());
    return obj;
  }
  async serves() {
    return false;
  }
}

function mdp(autoscaling: Record<string, unknown>, extra: Record<string, unknown> = {}): MarketDataPipeline {
  return {
    apiVersion: 'tickflow.dev/v1alpha1',
    kind: 'MarketDataPipeline',
    metadata: { name: 'demo', namespace: 'm', uid: 'mdp-uid', generation: 1 },
    spec: defaultedSpec({
      kafka: { bootstrapServers: 'kafka:9092' },
      redis: { secretName: 'u' },
      database: { secretName: 'u' },
      aggregator: { replicas: 3, autoscaling },
      ...extra,
    }),
  };
}

function setup(initial: MarketDataPipeline) {
  const kube = new FakeKube();
  let current = initial;
  const pipelines = { get: () => current } as unknown as SupervisedInformer;
  const lag = new LagSource({
    fetch: async () => [{ partition: 0, logEndOffset: 10, committedOffset: 4 }],
  });
  const r = new Reconciler({
    kube: kube as unknown as Kube,
    log: createLogger('test', { write: () => true } as unknown as NodeJS.WritableStream),
    pipelines,
    owned: new Map(),
    lag,
    defaultImage: 'img',
    ensureAdminTopics: async () => [],
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  return {
    kube,
    r,
    set: (m: MarketDataPipeline) => {
      current = {
        ...m,
        status: (kube.objects.get('MarketDataPipeline/m/demo')?.status as never) ?? m.status,
      };
    },
    sync: () => {
      current = { ...current, status: kube.objects.get('MarketDataPipeline/m/demo')?.status as never };
    },
  };
}

describe('Reconciler', () => {
  it('creates owned objects once; a second pass creates, updates and announces nothing', async () => {
    const t = setup(mdp({ mode: 'none' }));
    await t.r.reconcile('m/demo');
    expect(t.kube.calls.filter((c) => c.startsWith('create Event'))).toEqual([
      'create Event Created',
      'create Event Created',
    ]);
    const dep = t.kube.objects.get('Deployment/m/demo-aggregator') as Obj;
    expect((dep.spec as { replicas: number }).replicas).toBe(3);
    expect(dep.metadata.ownerReferences).toEqual([
      expect.objectContaining({ uid: 'mdp-uid', controller: true }),
    ]);
    const rv = dep.metadata.resourceVersion;
    t.sync();
    t.kube.calls = [];
    const statusWrites = t.r.metrics.statusWrites;
    await t.r.reconcile('m/demo');
    expect(t.kube.calls.filter((c) => c.startsWith('create'))).toEqual([]);
    expect((t.kube.objects.get('Deployment/m/demo-aggregator') as Obj).metadata.resourceVersion).toBe(rv);
    // the lag arrives in the background: at most one more status write, then none
    t.sync();
    await t.r.reconcile('m/demo');
    t.sync();
    const settled = t.r.metrics.statusWrites;
    await t.r.reconcile('m/demo');
    expect(t.r.metrics.statusWrites).toBe(settled);
    expect(settled - statusWrites).toBeLessThanOrEqual(1);
  });

  it('hands the replica count to the HPA without resetting it, and deletes the HPA when autoscaling is off', async () => {
    const t = setup(mdp({ mode: 'none' }));
    await t.r.reconcile('m/demo');
    t.set(mdp({ mode: 'hpa' }));
    await t.r.reconcile('m/demo');
    expect(t.kube.calls).toContain('apply Deployment/demo-aggregator tickflow-operator-handoff');
    const agg = t.kube.objects.get('Deployment/m/demo-aggregator') as Obj;
    expect((agg.spec as { replicas?: number }).replicas).toBe(3);
    expect(t.kube.objects.has('HorizontalPodAutoscaler/m/demo-aggregator')).toBe(true);
    t.set(mdp({ mode: 'none' }));
    await t.r.reconcile('m/demo');
    expect(t.kube.objects.has('HorizontalPodAutoscaler/m/demo-aggregator')).toBe(false);
    expect(t.kube.calls).toContain('delete HorizontalPodAutoscaler/demo-aggregator');
  });

  it('never adopts or deletes an object another owner controls: Degraded instead', async () => {
    const t = setup(mdp({ mode: 'none' }));
    t.kube.objects.set('Deployment/m/demo-producer', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'demo-producer',
        namespace: 'm',
        ownerReferences: [{ uid: 'someone-else', controller: true }],
      },
    });
    await expect(t.r.reconcile('m/demo')).rejects.toThrow(/not controlled by this pipeline/);
    const status = t.kube.objects.get('MarketDataPipeline/m/demo')?.status as { phase: string };
    expect(status.phase).toBe('Degraded');
    expect(t.kube.calls.some((c) => c.startsWith('delete'))).toBe(false);
    expect(t.kube.calls.filter((c) => c === 'create Event ApplyFailed')).toHaveLength(1);
  });

  it('a deleted pipeline needs nothing from the controller (the garbage collector removes its objects)', async () => {
    const t = setup(mdp({ mode: 'none' }));
    const r = new Reconciler({
      ...(t.r as unknown as { d: ConstructorParameters<typeof Reconciler>[0] }).d,
      pipelines: { get: () => undefined } as unknown as SupervisedInformer,
    });
    expect(await r.reconcile('m/demo')).toBeUndefined();
    expect(t.kube.calls).toEqual([]);
  });

  it('KubeError carries the API status', () => {
    const e = new KubeError(409, 'Conflict', 'x', undefined);
    expect(e.status).toBe(409);
  });
});
