// PURE: conditions maths. What a reconcile observed -> the MarketDataPipeline status.
//
//   Degraded    True while the last reconcile failed (reason says where: Kafka, Apply, ...).
//   Progressing True while anything is not there yet: topics not Ready, a Deployment whose controller has
//               not observed its latest generation, or whose updated replicas lag its desired count.
//   Ready       True when not Degraded, not Progressing, and every Deployment that should run pods has
//               at least one available replica.
//   phase       Degraded > Ready > Progressing > Pending (first that holds).
// Every condition carries observedGeneration = metadata.generation of the object reconciled, and its
// lastTransitionTime changes only when its status does.
import type { Condition, MarketDataPipelineStatus } from './crd.ts';

export interface DeploymentObservation {
  name: string;
  generation?: number;
  observedGeneration?: number;
  /** spec.replicas */
  desired: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
}

export interface Observation {
  generation: number;
  /** Failure of this reconcile, if any. */
  error?: { reason: string; message: string };
  /** Topics not ready yet (names), empty when all are. */
  topicsPending: string[];
  deployments: DeploymentObservation[];
  lag?: number;
  aggregatorReplicas?: number;
  maxAggregatorReplicas?: number;
  brokers?: string;
  autoscaler?: string;
}

function setCondition(
  previous: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition {
  const old = previous.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now;
  return { ...next, lastTransitionTime };
}

export function rolloutPending(d: DeploymentObservation): string | undefined {
  if (d.generation !== undefined && (d.observedGeneration ?? 0) < d.generation)
    return `${d.name}: generation ${d.generation} not observed yet`;
  if ((d.updatedReplicas ?? 0) < d.desired)
    return `${d.name}: ${d.updatedReplicas ?? 0}/${d.desired} replicas updated`;
  return undefined;
}

export function computeStatus(
  previous: MarketDataPipelineStatus | undefined,
  obs: Observation,
  now: Date,
): MarketDataPipelineStatus {
  const t = now.toISOString();
  const prev = previous?.conditions ?? [];
  const gen = obs.generation;
  const pending = [
    ...(obs.topicsPending.length ? [`topics not ready: ${obs.topicsPending.join(', ')}`] : []),
    ...obs.deployments.map(rolloutPending).filter((m): m is string => !!m),
  ];
  const unavailable = obs.deployments
    .filter((d) => d.desired > 0 && (d.availableReplicas ?? 0) < 1)
    .map((d) => d.name);

  const degraded = setCondition(
    prev,
    obs.error
      ? {
          type: 'Degraded',
          status: 'True',
          reason: obs.error.reason,
          message: obs.error.message,
          observedGeneration: gen,
        }
      : {
          type: 'Degraded',
          status: 'False',
          reason: 'ReconcileSucceeded',
          message: 'the last reconcile succeeded',
          observedGeneration: gen,
        },
    t,
  );
  const progressing = setCondition(
    prev,
    obs.error
      ? {
          type: 'Progressing',
          status: 'False',
          reason: 'ReconcileFailed',
          message: 'blocked by the error in Degraded',
          observedGeneration: gen,
        }
      : pending.length
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'RollingOut',
            message: pending.join('; '),
            observedGeneration: gen,
          }
        : {
            type: 'Progressing',
            status: 'False',
            reason: 'Complete',
            message: 'every object matches the spec',
            observedGeneration: gen,
          },
    t,
  );
  const ready = setCondition(
    prev,
    obs.error
      ? {
          type: 'Ready',
          status: 'False',
          reason: 'Degraded',
          message: obs.error.message,
          observedGeneration: gen,
        }
      : pending.length
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'Progressing',
            message: pending.join('; '),
            observedGeneration: gen,
          }
        : unavailable.length
          ? {
              type: 'Ready',
              status: 'False',
              reason: 'NoAvailableReplicas',
              message: `no available replicas: ${unavailable.join(', ')}`,
              observedGeneration: gen,
            }
          : {
              type: 'Ready',
              status: 'True',
              reason: 'PipelineReady',
              message: 'topics ready, every Deployment rolled out and available',
              observedGeneration: gen,
            },
    t,
  );
  const phase =
    degraded.status === 'True'
      ? 'Degraded'
      : ready.status === 'True'
        ? 'Ready'
        : progressing.status === 'True'
          ? 'Progressing'
          : 'Pending';
  return {
    phase,
    observedGeneration: gen,
    conditions: [ready, progressing, degraded],
    ...(obs.lag === undefined ? {} : { lag: obs.lag }),
    ...(obs.aggregatorReplicas === undefined ? {} : { aggregatorReplicas: obs.aggregatorReplicas }),
    ...(obs.maxAggregatorReplicas === undefined ? {} : { maxAggregatorReplicas: obs.maxAggregatorReplicas }),
    ...(obs.brokers === undefined ? {} : { brokers: obs.brokers }),
    ...(obs.autoscaler === undefined ? {} : { autoscaler: obs.autoscaler }),
  };
}

/** True when two statuses differ in anything but timestamps that would not change anyway. */
export function statusChanged(a: MarketDataPipelineStatus | undefined, b: MarketDataPipelineStatus): boolean {
  return canonical(a ?? {}) !== canonical(b);
}

/** JSON with object keys sorted, so the API server's key order does not count as a change. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
