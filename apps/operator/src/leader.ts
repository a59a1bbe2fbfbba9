// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the holder
// renews every retry period; another candidate takes over only after it has seen the same record
// unchanged for a whole lease duration (measured on its own clock, so clock skew between nodes does not
// matter); optimistic concurrency (resourceVersion) settles races. A leader that cannot renew within the
// renew deadline steps down. On shutdown the leader releases the Lease so a successor starts at once.
import type { Logger } from '@tickflow/telemetry';
import { isConflict, isNotFound, type Kube } from './kube.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** PURE: may `identity` take the lease, given what it has observed? */
export function canAcquire(
  lease: Lease['spec'] | undefined,
  identity: string,
  observedAtMs: number,
  nowMs: number,
  defaultDurationS: number,
): boolean {
  if (!lease?.holderIdentity) return true;
  if (lease.holderIdentity === identity) return true;
  const duration = (lease.leaseDurationSeconds ?? defaultDurationS) * 1000;
  return observedAtMs + duration <= nowMs;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  private readonly kube: Kube;
  private readonly log: Logger;
  private readonly opts: Required<LeaderOptions>;
  private observed: { key: string; at: number } | undefined;
  private leading = false;
  private lastRenew = 0;

  constructor(kube: Kube, log: Logger, opts: LeaderOptions) {
    this.kube = kube;
    this.log = log;
    this.opts = {
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: Date.now,
      ...opts,
    };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** One acquire-or-renew attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = this.opts.now();
    let lease: Lease | undefined;
    try {
      lease = await this.kube.get<Lease>('coordination.k8s.io/v1', 'Lease', namespace, name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!lease) {
      try {
        await this.kube.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    }
    const key = `${lease.spec.holderIdentity ?? ''}|${lease.spec.renewTime ?? ''}`;
    if (!this.observed || this.observed.key !== key) this.observed = { key, at: now };
    if (!canAcquire(lease.spec, identity, this.observed.at, now, leaseDurationSeconds)) return false;
    const takingOver = lease.spec.holderIdentity !== identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        ...(takingOver
          ? {
              acquireTime: microTime(now),
              // as client-go: every change of holder (a released lease included) is a transition
              leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1,
            }
          : {}),
      },
    };
    try {
      await this.kube.replace(next as never);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /**
   * Campaigns until `signal` aborts: calls onStartedLeading once the lease is ours, and onStoppedLeading
   * if it is lost (the caller should then stop acting and exit: a fresh process campaigns again).
   */
  async run(signal: AbortSignal, onStartedLeading: () => void, onStoppedLeading: () => void): Promise<void> {
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (e) {
        this.log.warn('leader election attempt failed', { error: (e as Error).message });
      }
      const now = this.opts.now();
      if (ok) {
        this.lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.log.info('became the leader', {
            lease: `${this.opts.namespace}/${this.opts.name}`,
            identity: this.opts.identity,
          });
          onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenew > this.opts.renewDeadlineMs) {
        this.leading = false;
        this.log.error('lost the leader lease', { lease: `${this.opts.namespace}/${this.opts.name}` });
        onStoppedLeading();
        return;
      }
      await sleep(this.opts.retryPeriodMs);
    }
  }

  /** Gives the lease up (when we hold it) so a successor does not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.kube.get<Lease>(
        'coordination.k8s.io/v1',
        'Lease',
        this.opts.namespace,
        this.opts.name,
      );
      if (lease.spec.holderIdentity !== this.opts.identity) return;
      await this.kube.replace({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          renewTime: microTime(this.opts.now()),
        },
      } as never);
    } catch (e) {
      this.log.warn('could not release the lease', { error: (e as Error).message });
    }
  }
}
