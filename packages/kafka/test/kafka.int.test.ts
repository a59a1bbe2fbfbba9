import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { BatchConsumer, consumerGroupLag, ensureTopics, headerValue, KafkaProducer } from '../src/index.ts';

const { brokers } = inject('stack');

describe('kafka adapter on a real broker', () => {
  it('produces with a bounded window, consumes in batches, commits, and reports lag', async () => {
    const topic = `t-${randomUUID()}`;
    const group = `g-${randomUUID()}`;
    expect(await ensureTopics(brokers, [{ topic, partitions: 3 }])).toEqual([topic]);
    expect(await ensureTopics(brokers, [{ topic, partitions: 3 }])).toEqual([]);

    const producer = await KafkaProducer.connect({ brokers, clientId: 'test', window: 100 });
    let acked = 0;
    for (let i = 0; i < 1000; i++) {
      await producer.send(
        { topic, key: `k${i % 7}`, value: Buffer.from(String(i)), headers: [{ n: String(i) }] },
        (err) => {
          if (!err) acked++;
        },
      );
      expect(producer.inFlight).toBeLessThanOrEqual(100);
    }
    await producer.drain();
    expect(acked).toBe(1000);
    await producer.close();

    const consumer = await BatchConsumer.connect({
      brokers,
      groupId: group,
      clientId: 'test',
      topics: [topic],
    });
    const seen = new Set<string>();
    const next = new Map<string, number>();
    while (seen.size < 1000) {
      const batch = await consumer.poll(500, 500);
      for (const m of batch) {
        seen.add(m.value?.toString() ?? '');
        expect(headerValue(m.headers, 'n')).toBe(m.value?.toString());
        next.set(`${m.partition}`, m.offset + 1);
      }
    }
    // Only half of what we read is committed: lag must show the rest.
    const offsets = [...next].map(([p, o]) => ({ topic, partition: Number(p), offset: Math.floor(o / 2) }));
    await consumer.commit(offsets);
    // The commit resolves on the broker's answer, but a fresh admin client's offset fetch right after
    // sometimes still reads no committed offsets (seen: lag 1000 instead of 500 in 1 of 4 runs): ask
    // again for a few seconds before judging.
    const expected = 1000 - offsets.reduce((s, o) => s + o.offset, 0);
    let total = -1;
    for (let i = 0; i < 50 && total !== expected; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      total = (await consumerGroupLag(brokers, group, topic)).reduce((s, p) => s + p.lag, 0);
    }
    expect(total).toBe(expected);
    await consumer.close();
  });

  it('errors-only delivery reports: librdkafka bounds the window, drain settles the count, nothing is lost', async () => {
    const topic = `t-${randomUUID()}`;
    await ensureTopics(brokers, [{ topic, partitions: 2 }]);
    const producer = await KafkaProducer.connect({
      brokers,
      clientId: 'test-errors-only',
      window: 50,
      deliveryReports: 'errors',
    });
    let callbacks = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const record = { topic, key: `k${i % 5}`, value: Buffer.from(String(i)) };
      // A full librdkafka queue refuses instead of growing; send() waits for room.
      if (!producer.trySend(record, () => callbacks++)) {
        refused++;
        await producer.send(record, () => callbacks++);
      }
    }
    await producer.drain();
    expect(refused).toBeGreaterThan(0);
    expect(producer.stats).toMatchObject({ sent: 2000, acked: 2000, failed: 0 });
    expect(callbacks).toBe(0); // successes are not reported in this mode
    expect(producer.inFlight).toBe(0);
    await expect(producer.sendAll([{ topic, key: null, value: Buffer.from('x') }])).rejects.toThrow(
      /delivery reports/,
    );
    await producer.close();

    const consumer = await BatchConsumer.connect({
      brokers,
      groupId: `g-${randomUUID()}`,
      clientId: 'test',
      topics: [topic],
    });
    const seen = new Set<string>();
    while (seen.size < 2000) {
      for (const m of await consumer.poll(500, 500)) seen.add(m.value?.toString() ?? '');
    }
    expect(seen.size).toBe(2000);
    await consumer.close();
  });

  it('poll waits for a first message, then returns only what is ready, never more than asked', async () => {
    const topic = `t-${randomUUID()}`;
    await ensureTopics(brokers, [{ topic, partitions: 1 }]);
    const consumer = await BatchConsumer.connect({
      brokers,
      groupId: `g-${randomUUID()}`,
      clientId: 'test-poll',
      topics: [topic],
    });
    // Nothing produced yet: every wait ends empty, with or without a timeout.
    expect(await consumer.poll(10, 0)).toEqual([]);
    expect(await consumer.poll(10, 200)).toEqual([]);

    const producer = await KafkaProducer.connect({ brokers, clientId: 'test-poll', window: 100 });
    await producer.sendAll(
      Array.from({ length: 25 }, (_, i) => ({ topic, key: 'k', value: Buffer.from(String(i)) })),
    );
    await producer.close();

    const values: string[] = [];
    const sizes: number[] = [];
    while (values.length < 25) {
      const batch = await consumer.poll(10, 2000);
      expect(batch.length).toBeGreaterThan(0); // 25 are there: a 2 s wait never ends empty
      sizes.push(batch.length);
      for (const m of batch) values.push(m.value?.toString() ?? '');
    }
    expect(values).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(await consumer.poll(1, 0)).toEqual([]);
    await consumer.close();
  });
});
