import { randomUUID } from 'node:crypto';
import { ensureTopics } from '@tickflow/kafka';
import pg from 'pg';

export interface IsolatedPipeline {
  id: string;
  topics: { raw: string; bars: string; alerts: string; dlq: string };
  group: string;
  redisPrefix: string;
  databaseUrl: string;
  /** Environment for `tickflow produce` / `tickflow aggregate` pointing at this test's resources. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * Per-test topics, consumer group, Redis prefix and database on the shared services, so tests
 * never see each other's data.
 */
export async function isolatedPipeline(
  stack: { brokers: string; redisUrl: string; databaseUrl: string },
  partitions = 6,
): Promise<IsolatedPipeline> {
  const id = randomUUID().slice(0, 8);
  const topics = { raw: `raw-${id}`, bars: `bars-${id}`, alerts: `alerts-${id}`, dlq: `dlq-${id}` };
  await ensureTopics(stack.brokers, [
    { topic: topics.raw, partitions },
    { topic: topics.bars, partitions },
    { topic: topics.alerts, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const dbName = `t_${id}`;
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const group = `group-${id}`;
  const redisPrefix = `t${id}:`;
  return {
    id,
    topics,
    group,
    redisPrefix,
    databaseUrl,
    env: {
      KAFKA_BROKERS: stack.brokers,
      REDIS_URL: stack.redisUrl,
      DATABASE_URL: databaseUrl,
      TOPIC_RAW: topics.raw,
      TOPIC_BARS: topics.bars,
      TOPIC_ALERTS: topics.alerts,
      TOPIC_DLQ: topics.dlq,
      KAFKA_GROUP_ID: group,
      REDIS_PREFIX: redisPrefix,
      CREATE_TOPICS: 'false',
    },
    async drop() {
      const c = new pg.Client({ connectionString: stack.databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    },
  };
}
