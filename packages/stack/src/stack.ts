// The whole local stack in one call: a database, optionally Kafka and Redis, started in
// parallel, with one stop() that stops everything in reverse order of start.
import { type KafkaInstance, type KafkaOptions, startKafka } from './kafka.ts';
import { type PostgresInstance, type PostgresOptions, startPostgres } from './postgres.ts';
import { type RedisInstance, type RedisOptions, startRedis } from './redis.ts';
import { startTimescale, type TimescaleInstance, type TimescaleOptions } from './timescale.ts';

export interface StackOptions {
  /** 'postgres': a real PostgreSQL server (default); 'timescale': PGlite + TimescaleDB (small volumes). */
  database?: 'postgres' | 'timescale';
  /** Start Kafka (default false: only what is asked for is started). */
  kafka?: boolean;
  /** Start Redis (default false). */
  redis?: boolean;
  postgresOptions?: PostgresOptions;
  timescaleOptions?: TimescaleOptions;
  kafkaOptions?: KafkaOptions;
  redisOptions?: RedisOptions;
}

export interface StackDatabase {
  kind: 'postgres' | 'timescale';
  /** DATABASE_URL */
  url: string;
  /** PostgreSQL server version ('15.18'; '17.5' for PGlite). */
  version: string;
}

export interface Stack {
  database: StackDatabase;
  /** Set when the database is 'postgres'. */
  postgres?: PostgresInstance;
  /** Set when the database is 'timescale'. */
  timescale?: TimescaleInstance;
  /** Set when kafka: true (`kafka.brokers` is KAFKA_BROKERS). */
  kafka?: KafkaInstance;
  /** Set when redis: true (`redis.url` is REDIS_URL). */
  redis?: RedisInstance;
  /** DATABASE_URL, KAFKA_BROKERS, REDIS_URL for what was started. */
  env: Record<string, string>;
  /** Stops everything (reverse order of readiness); tolerant of services that already died. Idempotent. */
  stop(): Promise<void>;
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/** Stop in reverse order; collect errors instead of stopping at the first. */
async function stopAll(started: readonly Stoppable[]): Promise<void> {
  const errors: string[] = [];
  for (const service of [...started].reverse()) {
    try {
      await service.stop();
    } catch (error) {
      errors.push(`${service.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (errors.length > 0) throw new Error(`stopping the stack failed:\n${errors.join('\n')}`);
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const database = opts.database ?? 'postgres';
  const started: Stoppable[] = [];
  const track = <T extends { stop(): Promise<void> }>(name: string, p: Promise<T>): Promise<T> =>
    p.then((service) => {
      started.push({ name, stop: () => service.stop() });
      return service;
    });

  // Kafka's JVM is the slow one: start it first so the others overlap with it.
  const kafkaP = opts.kafka !== true ? undefined : track('kafka', startKafka(opts.kafkaOptions));
  const redisP = opts.redis !== true ? undefined : track('redis', startRedis(opts.redisOptions));
  const postgresP =
    database === 'postgres' ? track('postgres', startPostgres(opts.postgresOptions)) : undefined;
  const timescaleP =
    database === 'timescale' ? track('timescale', startTimescale(opts.timescaleOptions)) : undefined;

  const results = await Promise.allSettled([kafkaP, redisP, postgresP, timescaleP]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll(started).catch(() => {});
    if (failures.length === 1) throw failures[0];
    throw new AggregateError(failures, `${failures.length} services failed to start`);
  }
  const [kafka, redis, postgres, timescale] = results.map((r) =>
    r.status === 'fulfilled' ? r.value : undefined,
  ) as [
    KafkaInstance | undefined,
    RedisInstance | undefined,
    PostgresInstance | undefined,
    TimescaleInstance | undefined,
  ];

  const db = postgres ?? timescale;
  if (db === undefined) throw new Error('startStack: no database started');
  const databaseInfo: StackDatabase = { kind: database, url: db.url, version: db.version };
  const env: Record<string, string> = { DATABASE_URL: db.url };
  if (kafka !== undefined) env.KAFKA_BROKERS = kafka.brokers;
  if (redis !== undefined) env.REDIS_URL = redis.url;

  let stopping: Promise<void> | undefined;
  return {
    database: databaseInfo,
    ...(postgres !== undefined ? { postgres } : {}),
    ...(timescale !== undefined ? { timescale } : {}),
    ...(kafka !== undefined ? { kafka } : {}),
    ...(redis !== undefined ? { redis } : {}),
    env,
    stop: () => {
      stopping ??= stopAll(started);
      return stopping;
    },
  };
}
