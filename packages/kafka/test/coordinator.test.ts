import { describe, expect, it } from 'vitest';
import { offsetsPartitionOf, probeGroupIds } from '../src/coordinator.ts';

describe('group coordinator placement', () => {
  it("places groups as Kafka does: Utils.abs(String.hashCode) % partitions (hash codes from Java's jshell)", () => {
    // "tickflow-aggregators".hashCode() == 784724808, "abc" == 96354, "ÿ-groupé-日本" == -392044292
    expect(offsetsPartitionOf('tickflow-aggregators', 50)).toBe(784724808 % 50);
    expect(offsetsPartitionOf('abc', 7)).toBe(96354 % 7);
    expect(offsetsPartitionOf('ÿ-groupé-日本', 50)).toBe(392044292 % 50);
  });

  it('picks one probe group per __consumer_offsets partition', () => {
    for (const n of [1, 4, 50]) {
      const ids = probeGroupIds(n);
      expect(ids).toHaveLength(n);
      expect(new Set(ids.map((id) => offsetsPartitionOf(id, n))).size).toBe(n);
    }
  });
});
