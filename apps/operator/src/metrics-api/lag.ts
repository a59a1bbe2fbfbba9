// PURE: consumer-group lag with the semantics of KEDA's Kafka scaler (pkg/scalers/kafka_scaler.go,
// getLagForPartition / getTotalLag), so `mode: hpa` and `mode: keda` scale alike:
//
// per partition, with logEnd the log-end offset and committed the group's committed offset (-1: none)
//   committed = -1, offsetResetPolicy latest   -> 1 (0 with scaleToZeroOnInvalidOffset): one consumer
//                                                 is wanted so that it can start, however long the log
//   committed = -1, offsetResetPolicy earliest -> logEnd (0 with scaleToZeroOnInvalidOffset), as KEDA:
//                                                 the log-end offset, not minus the log start
//   otherwise                                  -> logEnd - committed
//   excludePersistentLag: a partition whose committed offset equals the one seen at the previous
//     evaluation counts 0 towards the metric (a stuck consumer is not helped by more consumers), but
//     still towards activation (lagWithPersistent)
// total
//   lag = sum over partitions; unless allowIdleConsumers, capped: if floor(lag / lagThreshold) >
//     partitions then lag = partitions * lagThreshold, so an HPA with AverageValue = lagThreshold never
//     asks for more replicas than there are partitions
//   active = lagWithPersistent > activationLagThreshold

export interface PartitionOffsets {
  partition: number;
  logEndOffset: number;
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: number;
}

export interface LagOptions {
  lagThreshold: number;
  activationLagThreshold: number;
  offsetResetPolicy: 'earliest' | 'latest';
  allowIdleConsumers: boolean;
  scaleToZeroOnInvalidOffset: boolean;
  excludePersistentLag: boolean;
}

export interface LagResult {
  /** The metric value (capped). */
  lag: number;
  /** Sum including persistent lag, uncapped: decides activation. */
  lagWithPersistent: number;
  /** Raw sum before the cap. */
  uncappedLag: number;
  partitions: number;
  active: boolean;
  /** Committed offsets seen now, for the next excludePersistentLag evaluation. */
  offsets: Map<number, number>;
}

export function partitionLag(
  p: PartitionOffsets,
  opts: LagOptions,
  previous: ReadonlyMap<number, number> | undefined,
): { lag: number; lagWithPersistent: number } {
  if (p.committedOffset < 0) {
    if (opts.offsetResetPolicy === 'latest') {
      const v = opts.scaleToZeroOnInvalidOffset ? 0 : 1;
      return { lag: v, lagWithPersistent: v };
    }
    if (opts.scaleToZeroOnInvalidOffset) return { lag: 0, lagWithPersistent: 0 };
    return { lag: p.logEndOffset, lagWithPersistent: p.logEndOffset };
  }
  const raw = p.logEndOffset - p.committedOffset;
  if (opts.excludePersistentLag) {
    const before = previous?.get(p.partition);
    if (before !== undefined && before === p.committedOffset) return { lag: 0, lagWithPersistent: raw };
  }
  return { lag: raw, lagWithPersistent: raw };
}

export function totalLag(
  partitions: readonly PartitionOffsets[],
  opts: LagOptions,
  previous?: ReadonlyMap<number, number>,
): LagResult {
  let lag = 0;
  let lagWithPersistent = 0;
  const offsets = new Map<number, number>();
  for (const p of partitions) {
    const r = partitionLag(p, opts, previous);
    lag += r.lag;
    lagWithPersistent += r.lagWithPersistent;
    if (p.committedOffset >= 0) offsets.set(p.partition, p.committedOffset);
  }
  const uncappedLag = lag;
  const n = partitions.length;
  if (!opts.allowIdleConsumers && opts.lagThreshold > 0 && Math.floor(lag / opts.lagThreshold) > n) {
    lag = n * opts.lagThreshold;
  }
  return {
    lag,
    lagWithPersistent,
    uncappedLag,
    partitions: n,
    active: lagWithPersistent > opts.activationLagThreshold,
    offsets,
  };
}

/**
 * What the HPA controller does with an External AverageValue target (replica_calculator.go,
 * GetExternalPerPodMetricReplicas), for documentation and tests: ceil(metric / target) when the
 * ratio to the current count leaves the tolerance (default 10 %), else the current count; then
 * clamped to [min, max].
 */
export function hpaDesiredReplicas(
  metric: number,
  target: number,
  current: number,
  min: number,
  max: number,
  tolerance = 0.1,
): number {
  let desired = current;
  const ratio = current > 0 ? metric / (target * current) : Number.POSITIVE_INFINITY;
  if (Math.abs(1 - ratio) > tolerance) desired = Math.ceil(metric / target);
  return Math.max(min, Math.min(max, desired));
}
