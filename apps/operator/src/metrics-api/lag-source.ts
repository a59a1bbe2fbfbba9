// Consumer-group lag of a pipeline from the Kafka admin API (log-end offsets and the group's committed
// offsets per partition, @tickflow/kafka consumerGroupLag), turned into the KEDA-compatible metric by
// lag.ts. Results are cached briefly per pipeline (the HPA controller, several API server replicas and
// the reconciler all ask), and each query is bounded in time.
import { consumerGroupLag } from '@tickflow/kafka';
import type { MarketDataPipeline } from '../crd.ts';
import { brokersOf } from '../desired.ts';
import { type LagResult, type PartitionOffsets, totalLag } from './lag.ts';

export type OffsetsFetcher = (brokers: string, group: string, topic: string) => Promise<PartitionOffsets[]>;

export const kafkaOffsets: OffsetsFetcher = (brokers, group, topic) =>
  consumerGroupLag(brokers, group, topic);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class LagSource {
  private readonly cache = new Map<string, { at: number; result: Promise<LagResult> }>();
  private readonly previous = new Map<string, Map<number, number>>();
  private readonly latest = new Map<string, { at: number; result?: LagResult; error?: string }>();
  private readonly refreshing = new Set<string>();
  private readonly fetch: OffsetsFetcher;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(opts: { fetch?: OffsetsFetcher; ttlMs?: number; timeoutMs?: number; now?: () => number } = {}) {
    this.fetch = opts.fetch ?? kafkaOffsets;
    this.ttlMs = opts.ttlMs ?? 2000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Lag of the pipeline's consumer group on its raw topic, KEDA semantics (see lag.ts). */
  lag(mdp: MarketDataPipeline): Promise<LagResult> {
    const s = mdp.spec;
    const a = s.aggregator.autoscaling;
    const brokers = brokersOf(mdp);
    const key = `${mdp.metadata.namespace}/${mdp.metadata.name}|${brokers}|${s.kafka.groupId}|${s.topics.raw.name}|${JSON.stringify(a)}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && now - hit.at < this.ttlMs) return hit.result;
    const pipelineKey = `${mdp.metadata.namespace}/${mdp.metadata.name}`;
    const result = withTimeout(
      this.fetch(brokers, s.kafka.groupId, s.topics.raw.name),
      this.timeoutMs,
      `Kafka at ${brokers}`,
    ).then((partitions) => {
      if (partitions.length === 0)
        throw new Error(`topic ${s.topics.raw.name} has no partitions (does it exist?)`);
      const r = totalLag(
        partitions,
        {
          lagThreshold: a.lagPerReplica,
          activationLagThreshold: a.activationLag,
          offsetResetPolicy: a.offsetResetPolicy,
          allowIdleConsumers: a.allowIdleConsumers,
          scaleToZeroOnInvalidOffset: a.scaleToZeroOnInvalidOffset,
          excludePersistentLag: a.excludePersistentLag,
        },
        this.previous.get(pipelineKey),
      );
      this.previous.set(pipelineKey, r.offsets);
      return r;
    });
    this.cache.set(key, { at: now, result });
    // failures are not cached beyond this call's sharers
    result.catch(() => {
      if (this.cache.get(key)?.result === result) this.cache.delete(key);
    });
    for (const [k, v] of this.cache) if (now - v.at > 60_000) this.cache.delete(k);
    return result;
  }

  /**
   * For the reconciler, which must not wait for Kafka: the last reading of this pipeline (if any) at
   * once, and a refresh in the background when it is older than `maxAgeMs`; `onChange` runs when a
   * refresh brings a different value or an error that differs from the last.
   */
  peek(
    mdp: MarketDataPipeline,
    maxAgeMs: number,
    onChange: () => void,
  ): { result?: LagResult; error?: string } {
    const key = `${mdp.metadata.namespace}/${mdp.metadata.name}`;
    const last = this.latest.get(key);
    const now = this.now();
    if ((!last || now - last.at >= maxAgeMs) && !this.refreshing.has(key)) {
      this.refreshing.add(key);
      this.lag(mdp)
        .then(
          (result) => {
            this.latest.set(key, { at: this.now(), result });
            if (
              last?.result?.lag !== result.lag ||
              last?.result?.partitions !== result.partitions ||
              last?.error
            )
              onChange();
          },
          (err: Error) => {
            this.latest.set(key, { at: this.now(), result: last?.result, error: err.message });
            if (last?.error !== err.message) onChange();
          },
        )
        .finally(() => this.refreshing.delete(key));
    }
    return { result: last?.result, error: last?.error };
  }

  forget(namespace: string, name: string): void {
    this.previous.delete(`${namespace}/${name}`);
    this.latest.delete(`${namespace}/${name}`);
  }
}
