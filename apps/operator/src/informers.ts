// Informers (client-node's ListWatch: list, then watch from that resourceVersion, relisting on 410)
// under supervision: ListWatch stops for good on any other error (a dropped connection, a 403, a CRD that
// is not installed yet), so every error schedules a restart after a capped exponential backoff. While
// restarting, the cache keeps the last known objects; a restart relists, and the relist's differences
// come out as add/update/delete events, so no change is lost.
import { type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from '@tickflow/telemetry';
import type { Kube } from './kube.ts';
import { resourcePath } from './kube.ts';

export interface InformerSpec {
  apiVersion: string;
  kind: string;
  /** Watch one namespace, or all when undefined. */
  namespace?: string;
  labelSelector?: string;
}

export type Handler<T> = (event: 'add' | 'update' | 'delete', obj: T) => void;

export class SupervisedInformer<T extends KubernetesObject = KubernetesObject> {
  readonly spec: InformerSpec;
  private lw: ListWatch<T> | undefined;
  private stopped = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private syncedOnce = false;
  private syncWaiters: Array<() => void> = [];
  restarts = 0;
  lastError: string | undefined;

  private readonly kube: Kube;
  private readonly handler: Handler<T>;
  private readonly log: Logger;
  private readonly maxBackoffMs: number;

  constructor(kube: Kube, spec: InformerSpec, handler: Handler<T>, log: Logger, maxBackoffMs = 30_000) {
    this.kube = kube;
    this.spec = spec;
    this.handler = handler;
    this.log = log;
    this.maxBackoffMs = maxBackoffMs;
  }

  get name(): string {
    return `${this.spec.kind}${this.spec.namespace ? `/${this.spec.namespace}` : ''}`;
  }

  /** Starts; resolves once the first list has been delivered (or on stop). */
  start(): Promise<void> {
    this.stopped = false;
    this.launch();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.syncedOnce || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  private launch(): void {
    if (this.stopped) return;
    const path = resourcePath(this.spec.apiVersion, this.spec.kind, this.spec.namespace);
    const listFn = async () => {
      const list = await this.kube.request<{ items: T[]; metadata: { resourceVersion: string } }>(
        'GET',
        path,
        {
          query: { labelSelector: this.spec.labelSelector },
        },
      );
      // list items carry no apiVersion/kind
      for (const item of list.items) {
        item.apiVersion ??= this.spec.apiVersion;
        item.kind ??= this.spec.kind;
      }
      return list;
    };
    const previous = this.lw;
    const lw = new ListWatch<T>(path, new Watch(this.kube.kc), listFn, false, this.spec.labelSelector);
    // keep the objects known before a restart, so the relist reports deletions that happened meanwhile
    if (previous) {
      (lw as unknown as { objects: unknown }).objects = (previous as unknown as { objects: unknown }).objects;
    }
    this.lw = lw;
    lw.on('add', (o) => this.handler('add', o));
    lw.on('update', (o) => this.handler('update', o));
    lw.on('delete', (o) => this.handler('delete', o));
    lw.on('error', (err) => this.restart(lw, err));
    lw.start().then(
      () => this.markSynced(),
      (err) => this.restart(lw, err),
    );
  }

  /** After ListWatch.start() resolved: listed and watching, unless the list failed (then an error restarts it). */
  private markSynced(): void {
    if (!this.lw?.latestResourceVersion()) return;
    this.failures = 0;
    if (this.syncedOnce) return;
    this.syncedOnce = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private restart(lw: ListWatch<T>, err: unknown): void {
    if (this.stopped || lw !== this.lw) return;
    void lw.stop();
    const delay = Math.min(this.maxBackoffMs, 250 * 2 ** Math.min(this.failures, 10));
    this.failures++;
    this.restarts++;
    this.lastError =
      err instanceof Error ? err.message : String((err as { message?: string })?.message ?? err);
    this.log.warn('informer stopped; restarting', {
      informer: this.name,
      inMs: delay,
      error: this.lastError,
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw?.list(namespace) ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    for (const w of this.syncWaiters.splice(0)) w();
    await this.lw?.stop();
  }
}
