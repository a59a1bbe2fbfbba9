import pg from 'pg';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { isPidAlive, isPortFree, startStack } from '../src/index.ts';

describe('startStack', () => {
  it('starts the asked services in parallel and stops them all, even one that already died', async () => {
    const stack = await startStack({ database: 'timescale', redis: true });
    expect(stack.database.kind).toBe('timescale');
    expect(stack.kafka).toBeUndefined();
    expect(stack.postgres).toBeUndefined();
    expect(stack.env).toEqual({ DATABASE_URL: stack.database.url, REDIS_URL: stack.redis?.url });

    const db = new pg.Client({ connectionString: stack.database.url });
    await db.connect();
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await db.end();
    const redis = createClient({ url: stack.redis?.url ?? '' });
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    await redis.close();

    const redisPid = stack.redis?.pid ?? -1;
    process.kill(redisPid, 'SIGKILL'); // a service that died on its own must not break stop()
    await stack.stop();
    await stack.stop(); // idempotent
    for (const service of [stack.redis, stack.timescale]) {
      expect(service).toBeDefined();
      if (service === undefined) continue;
      expect(isPidAlive(service.pid)).toBe(false);
      expect(await isPortFree(service.port)).toBe(true);
    }
  });

  it('starts PostgreSQL as the default database', async () => {
    const stack = await startStack({});
    try {
      expect(stack.database.kind).toBe('postgres');
      expect(stack.database.url).toBe(stack.postgres?.url);
      expect(Object.keys(stack.env)).toEqual(['DATABASE_URL']);
    } finally {
      await stack.stop();
    }
  });
});
