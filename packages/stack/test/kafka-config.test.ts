import { describe, expect, it } from 'vitest';
import { brokerGcOptions, brokerThreads } from '../src/kafka.ts';

describe('brokerThreads', () => {
  it('keeps the local broker to few threads on small machines and to Kafka defaults on larger ones', () => {
    expect(brokerThreads(1)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 2 });
    expect(brokerThreads(2)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 2 });
    expect(brokerThreads(4)).toEqual({ 'num.network.threads': 1, 'num.io.threads': 4 });
    expect(brokerThreads(16)).toEqual({ 'num.network.threads': 3, 'num.io.threads': 8 });
  });
});

describe('brokerGcOptions', () => {
  it("selects ZGC over the tools' G1 and logs collections to a bounded file", () => {
    const z = brokerGcOptions('zgc', '/tmp/k/gc.log');
    expect(z.slice(0, 2)).toEqual(['-XX:-UseG1GC', '-XX:+UseZGC']);
    expect(z).toContain('-Xlog:gc:file=/tmp/k/gc.log:uptime,level:filecount=2,filesize=10m');
    const g1 = brokerGcOptions('g1', '/tmp/k/gc.log');
    expect(g1).not.toContain('-XX:+UseZGC');
    expect(g1).toContain('-XX:MaxGCPauseMillis=20');
  });
});
