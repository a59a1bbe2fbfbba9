import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isPidAlive,
  isPortFree,
  KAFKA_TOOLS,
  KAFKA_VERSION,
  type KafkaInstance,
  runKafkaTool,
  startKafka,
} from '../src/index.ts';

describe('startKafka', () => {
  let kafka: KafkaInstance;

  beforeAll(async () => {
    kafka = await startKafka({ partitions: 3 });
  });

  afterAll(async () => {
    await kafka?.stop();
  });

  it('runs a KRaft broker on loopback', () => {
    expect(kafka.brokers).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(kafka.version).toBe(KAFKA_VERSION);
    expect(existsSync(kafka.libsDir)).toBe(true);
    // the JVM's own log line: ZGC really runs (the default), not just a flag on the command line
    expect(readFileSync(join(kafka.dir, 'gc.log'), 'utf8')).toContain('Using The Z Garbage Collector');
  });

  it('creates a topic, produces and consumes a message with the KafkaJS-compatible client', async () => {
    const client = new KafkaJS.Kafka({
      kafkaJS: { brokers: [kafka.brokers], clientId: 'stack-test', logLevel: KafkaJS.logLevel.ERROR },
    });
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'stack-test', numPartitions: 2, replicationFactor: 1 }] });
      expect(await admin.listTopics()).toContain('stack-test');
    } finally {
      await admin.disconnect();
    }

    const producer = client.producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    await producer.send({ topic: 'stack-test', messages: [{ key: 'AAPL', value: 'hello' }] });
    await producer.disconnect();

    const consumer = client.consumer({ kafkaJS: { groupId: 'stack-test-group', fromBeginning: true } });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ['stack-test'] });
      const received = await new Promise<{ key: string; value: string }>((resolveMessage, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolveMessage({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
          },
        });
      });
      expect(received).toEqual({ key: 'AAPL', value: 'hello' });
    } finally {
      await consumer.disconnect();
    }
  });

  it("runs Kafka's Java tools with the same classpath", async () => {
    const { stdout } = await runKafkaTool(KAFKA_TOOLS.topics, [
      '--bootstrap-server',
      kafka.brokers,
      '--list',
    ]);
    expect(stdout.split('\n')).toContain('stack-test');
  });

  it('stops cleanly: port released, process gone', async () => {
    await kafka.stop();
    expect(isPidAlive(kafka.pid)).toBe(false);
    expect(await isPortFree(kafka.port)).toBe(true);
    expect(await isPortFree(kafka.controllerPort)).toBe(true);
    expect(existsSync(kafka.dir)).toBe(false);
  });
});
