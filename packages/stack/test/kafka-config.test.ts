import { describe, expect, it } from 'vitest';
import { brokerThreads } from '../src/kafka.ts';

describe('brokerThreads', () => {
  it('keeps the local broker to few threads on small machines and to Kafka defaults on larger ones', () => {
    expect(brokerThreads(1)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 2 });
    expect(brokerThreads(2)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 2 });
    expect(brokerThreads(4)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 4 });
    expect(brokerThreads(16)).toEqual({ 'num.network.threads': 3, 'num.io.threads': 8 });
  });
});
