import { describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../src/config.ts';
import { renderMarkdown } from '../src/markdown.ts';
import { DEFAULT_WARMUP_S, planFor } from '../src/plan.ts';
import { parseCpuPressure, pressurePercent } from '../src/pressure.ts';
import { benchResultSchema, type ScenarioResult } from '../src/result.ts';
import { parseConsumerPerf, parseProducerPerf, producerPerfArgs } from '../src/scenarios/kafka-limit.ts';
import { parseProducerPerfLatency } from '../src/scenarios/kafka-producer-latency.ts';
import { cpuShare, growth, mean, percentile, ratio, sustainedRate, window } from '../src/stats.ts';
import { evaluateTargets } from '../src/targets.ts';
import { benchResultOf } from './fixtures.ts';

const lat = (p99: number, mean = p99 / 2) => ({
  count: 100,
  mean,
  p50: p99 / 3,
  p90: p99 / 2,
  p99,
  p999: p99 * 1.5,
  max: p99 * 2,
});

describe('harness maths', () => {
  it('computes nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([], 50)).toBe(0);
    expect(() => percentile(v, 101)).toThrow(RangeError);
    expect(percentile([5, 1, 3], 50)).toBe(3);
  });

  it('averages the sustained rate over the steady window only', () => {
    // 1 s samples: warm-up at 10/s, steady at 100/s, a tail at 0.
    const samples = [
      ...Array.from({ length: 5 }, (_, i) => ({ t: i + 1, rate: 10 })),
      ...Array.from({ length: 10 }, (_, i) => ({ t: i + 6, rate: 100 })),
      { t: 16, rate: 0 },
    ];
    expect(sustainedRate(samples, 5, 15, 1)).toBe(100);
    expect(sustainedRate([], 0, 10, 1)).toBe(0);
    expect(window(samples, 5, 7).map((s) => s.t)).toEqual([5, 6]);
  });

  it('derives CPU share, growth, ratio and mean', () => {
    expect(cpuShare(10, 25, 10)).toBe(1.5);
    expect(cpuShare(10, 5, 10)).toBe(0);
    expect(growth(100, 108)).toBeCloseTo(0.08);
    expect(ratio(1, 0)).toBeNull();
    expect(mean([1, 2, 3])).toBe(2);
  });

  it("parses Kafka's perf tools", () => {
    expect(
      parseProducerPerf(
        '300000 records sent, 98425.196850 records/sec (6.01 MB/sec), 152.27 ms avg latency, 373.00 ms max latency.',
      ),
    ).toBeCloseTo(98425.19685);
    const consumer = [
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-22 07:00:00:000, 2026-11-22 07:00:03:000, 18.3105, 6.1035, 300000, 100000.0000, 1000, 2000, 9.1553, 150000.0000',
    ].join('\n');
    expect(parseConsumerPerf(consumer)).toBe(150000);
    expect(() => parseConsumerPerf('nothing')).toThrow(/unexpected/);
    expect(
      parseProducerPerfLatency(
        '100060 records sent, 20004.0 records/sec (1.22 MB/sec), 1.8 ms avg latency, 7.0 ms max latency.\n' +
          '900000 records sent, 19992.9 records/sec (1.22 MB/sec), 2.20 ms avg latency, 256.00 ms max latency, 2 ms 50th, 4 ms 95th, 8 ms 99th, 30 ms 99.9th.',
      ),
    ).toEqual({ mean: 2.2, p50: 2, p95: 4, p99: 8, p999: 30, max: 256 });
    expect(producerPerfArgs('127.0.0.1:9092', 't', 1000, -1, ['acks=all'])).toEqual([
      '--topic',
      't',
      '--num-records',
      '1000',
      '--record-size',
      '64',
      '--throughput',
      '-1',
      '--producer-props',
      'bootstrap.servers=127.0.0.1:9092',
      'acks=all',
    ]);
    // A windowed progress line alone carries no percentiles.
    expect(() =>
      parseProducerPerfLatency(
        '100060 records sent, 20004.0 records/sec, 1.8 ms avg latency, 7.0 ms max latency.',
      ),
    ).toThrow(/unexpected/);
  });
});

describe('result schema and report', () => {
  const scenarios: ScenarioResult[] = [
    {
      name: 'max-throughput',
      steadySeconds: 60,
      storedPerSec: 61000,
      producedPerSec: 70000,
      endToEnd: lat(40),
      processes: { aggregator: { cpuCores: 0.9, peakRssMiB: 180 } },
    },
    {
      name: 'fixed-rate',
      requestedPerSec: 20000,
      producedPerSec: 19990,
      storedPerSec: 19990,
      endToEnd: lat(8, 4),
      split: {
        producerToBroker: lat(3),
        brokerToAggregator: lat(5),
        processing: lat(0.5),
        sinkWrite: lat(2),
      },
      processes: {
        aggregator: { cpuCores: 0.35, peakRssMiB: 200 },
        kafka: { cpuCores: 0.25, peakRssMiB: 400 },
      },
    },
    {
      name: 'transport-floor',
      requestedPerSec: 20000,
      producedPerSec: 19995,
      producerToBroker: lat(2),
      ingestToPolled: lat(3, 2.5),
      commit: { batchRows: 100, writes: 1000, latency: lat(1.5, 1.25) },
      kafkaProducer: {
        seconds: 60,
        lingerMs: 2,
        ack: { mean: 2.2, p50: 2, p95: 4, p99: 8, p999: 30, max: 256 },
        cpuPressurePct: 20,
      },
    },
    {
      name: 'kafka-limit',
      records: 1000,
      recordBytes: 64,
      partitions: 6,
      producerPerfPerSec: 300000,
      consumerPerfPerSec: 100000,
      tickflowPerSec: 61000,
      tickflowShareOfConsume: 0.61,
    },
    { name: 'scale-out', oneAggregatorPerSec: 61000, twoAggregatorsPerSec: 70000, speedup: 70000 / 61000 },
  ];
  const result = benchResultOf(scenarios);

  it('evaluates the targets against the measurements', () => {
    const met = Object.fromEntries(result.targets.map((t) => [t.target.split(':')[0], t.met]));
    expect(result.targets.map((t) => t.met)).toEqual([true, true, true, true, null, null]);
    expect(met.soak).toBeNull();
  });

  it('validates and renders a result', () => {
    expect(benchResultSchema.parse(result)).toEqual(result);
    expect(() => benchResultSchema.parse({ ...result, scenarios: [{ name: 'max-throughput' }] })).toThrow();
    const md = renderMarkdown(result);
    expect(md).toContain('Command: `tickflow bench`');
    expect(md).toContain('**61,000 msg/s**');
    expect(md).toContain('| Tickflow / raw consume | 61.0 % |');
    expect(md).toContain('## Transport floor at 20,000 msg/s (no sinks)');
    expect(md).toContain('(cores; the machine has 2): aggregator 0.35, kafka 0.25; total 0.60.');
    expect(md).toContain(
      "1,000 durable writes (INSERT + commit, as the aggregator's trade sink does them) of 100 trades each",
    );
    expect(md).toContain('--compression none --linger-ms 2');
    expect(md).toContain('`kafka-producer-perf-test --throughput 20000` for 60 s');
    expect(md).toContain('**2 / 4 / 8 / 30 / 256** (2.20).');
    expect(md).toContain('runnable tasks waited for a core during 20.0 % of the window.');
    expect(md).not.toContain('Aggregator Node flags');
    const flagged = { ...result, aggregatorNodeArgs: ['--max-semi-space-size=32'] };
    expect(benchResultSchema.parse(flagged)).toEqual(flagged);
    expect(renderMarkdown(flagged)).toContain('Aggregator Node flags: `--max-semi-space-size=32`');
  });

  it('judges and renders a soak, with or without per-window means', () => {
    const soak: ScenarioResult = {
      name: 'soak',
      requestedPerSec: 20000,
      minutes: 2,
      samples: [
        { t: 60, rssMiB: 200, p99Ms: 20, meanMs: 4.5, storedPerSec: 20000 },
        { t: 120, rssMiB: 212, p99Ms: 25, storedPerSec: 19990 },
      ],
      rssGrowthAfterFirstMinute: 0.06,
    };
    const withSoak = { ...result, scenarios: [...scenarios, soak], targets: evaluateTargets([soak]) };
    expect(benchResultSchema.parse(withSoak)).toEqual(withSoak);
    expect(withSoak.targets.find((t) => t.target.startsWith('soak'))).toMatchObject({
      value: '6 %',
      met: true,
    });
    const md = renderMarkdown(withSoak);
    expect(md).toContain('| 60 | 200 | 20.00 | 4.50 | 20,000 |');
    expect(md).toContain('| 120 | 212 | 25.00 | – | 19,990 |');
  });

  it('puts the transport floor next to each latency target', () => {
    const [p99, mean] = result.targets.filter((t) => t.target.startsWith('at 20,000 msg/s'));
    expect(p99?.value).toMatch(
      /ms \(transport alone, no sinks: [\d.]+ ms; one durable batch write alone: [\d.]+ ms; Kafka's own producer alone, send -> ack: 8 ms\)$/,
    );
    expect(mean?.value).toContain(
      "transport alone, no sinks: 2.5 ms; one durable batch write alone: 1.25 ms; Kafka's own producer alone, send -> ack: 2.2 ms",
    );
    const noCommit = scenarios.map((s) =>
      s.name === 'transport-floor' ? { ...s, commit: undefined, kafkaProducer: undefined } : s,
    );
    expect(
      evaluateTargets(noCommit).find((t) => t.target.startsWith('at 20,000 msg/s: mean'))?.value,
    ).toMatch(/\(transport alone, no sinks: 2.5 ms\)$/);
    const without = evaluateTargets(scenarios.filter((s) => s.name !== 'transport-floor'));
    expect(without.find((t) => t.target.startsWith('at 20,000 msg/s: p99'))?.value).not.toContain(
      'transport',
    );
  });
});

describe('CPU pressure', () => {
  it('reads the cumulative `some` stall time from /proc/pressure/cpu', () => {
    const text =
      'some avg10=3.70 avg60=33.45 avg300=35.00 total=9341795329\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    expect(parseCpuPressure(text)).toBe(9_341_795_329);
    expect(parseCpuPressure('')).toBeUndefined();
  });

  it('turns two readings into a share of the window, or nothing when a reading is missing', () => {
    expect(pressurePercent(1_000_000, 4_000_000, 10)).toBeCloseTo(30);
    expect(pressurePercent(0, 50_000_000, 10)).toBe(100); // rounding of the kernel's clock, capped
    expect(pressurePercent(undefined, 4_000_000, 10)).toBeUndefined();
    expect(pressurePercent(5, 4, 10)).toBeUndefined();
    expect(pressurePercent(1, 4, 0)).toBeUndefined();
  });

  it('is reported next to the CPU use and the p99 target when measured', () => {
    const scenarios: ScenarioResult[] = [
      {
        name: 'fixed-rate',
        requestedPerSec: 20000,
        producedPerSec: 20000,
        storedPerSec: 20000,
        endToEnd: lat(30, 5),
        split: {
          producerToBroker: lat(3),
          brokerToAggregator: lat(5),
          processing: lat(0.5),
          sinkWrite: lat(2),
        },
        processes: { aggregator: { cpuCores: 0.4, peakRssMiB: 200 } },
        cpuPressurePct: 31.25,
      },
      {
        name: 'transport-floor',
        requestedPerSec: 20000,
        producedPerSec: 20000,
        producerToBroker: lat(2),
        ingestToPolled: lat(3, 2.5),
        cpuPressurePct: 8,
      },
    ];
    const r = benchResultOf(scenarios, 'tickflow bench --scenarios latency,floor');
    expect(r.targets.find((t) => t.target.startsWith('at 20,000 msg/s: p99'))?.value).toBe(
      '30 ms (transport alone, no sinks: 3 ms); CPU pressure 31.3 % (transport alone: 8 %)',
    );
    expect(benchResultSchema.parse(r)).toEqual(r);
    const md = renderMarkdown(r);
    expect(md).toContain(
      'aggregator 0.40; total 0.40. CPU pressure (Linux PSI `some`): runnable tasks waited for a core during 31.3 % of the window.',
    );
    expect(md).toContain('runnable tasks waited for a core during 8.0 % of the window.');
  });
});

describe('run plan', () => {
  it('warms up 20 s by default and 3 s in a quick run, unless told', () => {
    expect(planFor(loadBenchConfig([], {})).warmupS).toBe(DEFAULT_WARMUP_S);
    expect(DEFAULT_WARMUP_S).toBe(20);
    expect(planFor(loadBenchConfig(['--quick'], {})).warmupS).toBe(3);
    expect(planFor(loadBenchConfig(['--warmup', '7'], {})).warmupS).toBe(7);
  });

  it('passes extra Node flags to the aggregator after the profiler flags', () => {
    const plan = planFor(
      loadBenchConfig(['--cpu-prof', '--aggregator-node-args=--max-semi-space-size=16'], {}),
    );
    expect(plan.aggregatorNodeArgs.slice(0, 1)).toEqual(['--cpu-prof']);
    expect(plan.aggregatorNodeArgs.at(-1)).toBe('--max-semi-space-size=16');
    expect(plan.aggregatorNodeArgs).toContain('--max-semi-space-size=32'); // the shipped default, overridden
    expect(() => loadBenchConfig(['--aggregator-node-args=max-semi-space-size=16'], {})).toThrow(
      /Node\/V8 flags/,
    );
  });
});
