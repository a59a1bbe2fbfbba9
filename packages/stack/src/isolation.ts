// A pipeline of its own on shared services: the integration tests and the bench each run the producer
// and aggregator against fresh topics, consumer group, Redis prefix and database, so that runs never
// see each other's data.

/** The shared services, as KAFKA_BROKERS, REDIS_URL and DATABASE_URL. */
export interface PipelineServices {
  brokers: string;
  redisUrl: string;
  databaseUrl: string;
}

/** Names of one pipeline's resources; the caller makes them unique. */
export interface PipelineNames {
  topics: { raw: string; bars: string; alerts: string; dlq: string };
  /** Kafka consumer group of the aggregators. */
  group: string;
  redisPrefix: string;
  /** Database created on the server of `databaseUrl`; used unquoted in SQL (lower case, digits, `_`). */
  database: string;
}

export interface PipelineIsolation extends PipelineNames {
  /** DATABASE_URL of the new database. */
  databaseUrl: string;
  /** Environment for `tickflow produce` / `tickflow aggregate` pointing at these resources. */
  env: Record<string, string>;
  /** Drops the database (topics, group and Redis keys are left to the services' lifetime). */
  drop(): Promise<void>;
}

export interface IsolationOptions {
  /** Topic configs of the raw trades topic, e.g. `message.timestamp.type: LogAppendTime`. */
  rawTopicConfig?: Record<string, string>;
}

/**
 * Creates the topics (raw and bars with `partitions`, alerts and the DLQ with one) and an empty
 * database. The Kafka client and `pg` load here, on demand, so importing @tickflow/stack does not
 * load the Kafka native addon.
 */
export async function isolatePipeline(
  services: PipelineServices,
  names: PipelineNames,
  partitions: number,
  options: IsolationOptions = {},
): Promise<PipelineIsolation> {
  const [{ ensureTopics }, { default: pg }] = await Promise.all([import('@tickflow/kafka'), import('pg')]);
  const { topics, group, redisPrefix, database } = names;
  await ensureTopics(services.brokers, [
    { topic: topics.raw, partitions, ...(options.rawTopicConfig ? { config: options.rawTopicConfig } : {}) },
    { topic: topics.bars, partitions },
    { topic: topics.alerts, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: services.databaseUrl });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(services.databaseUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  return {
    topics,
    group,
    redisPrefix,
    database,
    databaseUrl,
    env: {
      KAFKA_BROKERS: services.brokers,
      REDIS_URL: services.redisUrl,
      DATABASE_URL: databaseUrl,
      TOPIC_RAW: topics.raw,
      TOPIC_BARS: topics.bars,
      TOPIC_ALERTS: topics.alerts,
      TOPIC_DLQ: topics.dlq,
      KAFKA_GROUP_ID: group,
      REDIS_PREFIX: redisPrefix,
      CREATE_TOPICS: 'false',
    },
    drop: () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}
