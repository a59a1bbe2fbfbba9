import type { TestProject } from 'vitest/node';

/**
 * Starts one real Kafka + Redis + PostgreSQL for the whole integration run (each test isolates
 * itself with its own topics, consumer group, Redis prefix and database). Setting
 * TICKFLOW_TEST_KAFKA / TICKFLOW_TEST_REDIS / TICKFLOW_TEST_DATABASE reuses running services
 * instead, which makes iterating on one test fast.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reuse =
    process.env.TICKFLOW_TEST_KAFKA && process.env.TICKFLOW_TEST_REDIS && process.env.TICKFLOW_TEST_DATABASE;
  if (reuse) {
    project.provide('stack', {
      brokers: process.env.TICKFLOW_TEST_KAFKA as string,
      redisUrl: process.env.TICKFLOW_TEST_REDIS as string,
      databaseUrl: process.env.TICKFLOW_TEST_DATABASE as string,
    });
    return async () => undefined;
  }
  const { startStack } = await import('@tickflow/stack');
  const stack = await startStack({ database: 'postgres', kafka: true, redis: true });
  project.provide('stack', {
    brokers: stack.kafka?.brokers as string,
    redisUrl: stack.redis?.url as string,
    databaseUrl: stack.database.url,
  });
  return () => stack.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { brokers: string; redisUrl: string; databaseUrl: string };
  }
}
