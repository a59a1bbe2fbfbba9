import { randomUUID } from 'node:crypto';
import { isolatePipeline, type PipelineIsolation, type PipelineServices } from '@tickflow/stack';

export interface IsolatedPipeline extends PipelineIsolation {
  id: string;
}

/**
 * Per-test topics, consumer group, Redis prefix and database on the shared services, so tests
 * never see each other's data.
 */
export async function isolatedPipeline(stack: PipelineServices, partitions = 6): Promise<IsolatedPipeline> {
  const id = randomUUID().slice(0, 8);
  const names = {
    topics: { raw: `raw-${id}`, bars: `bars-${id}`, alerts: `alerts-${id}`, dlq: `dlq-${id}` },
    group: `group-${id}`,
    redisPrefix: `t${id}:`,
    database: `t_${id}`,
  };
  return { id, ...(await isolatePipeline(stack, names, partitions)) };
}
