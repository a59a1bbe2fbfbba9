import { readFileSync } from 'node:fs';
import type { KafkaProducer } from '@tickflow/kafka';
import { LatencyHistogram, type Registry } from '@tickflow/telemetry';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  dashboardQueries,
  instantiate,
  loadDashboards,
} from '../../../test/support/dashboards.ts';
import { MarketAggregator } from '../../aggregator/src/core/index.ts';
import { createAggregatorMetrics } from '../../aggregator/src/metrics.ts';
import { BatchPipeline, type Sinks } from '../../aggregator/src/pipeline.ts';
import { createProducerCounters, createProducerMetrics } from '../../producer/src/metrics.ts';

const DOCS = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const RULES = readFileSync(`${CHART_DIR}rules/tickflow-rules.yaml`, 'utf8');
const KAFKA_EXPORTER = [
  'kafka_consumergroup_lag',
  'kafka_consumergroup_lag_sum',
  'kafka_consumergroup_current_offset',
  'kafka_consumergroup_members',
  'kafka_topic_partition_current_offset',
  'kafka_topic_partition_oldest_offset',
  'kafka_topic_partitions',
];

async function families(): Promise<Map<string, string>> {
  const noop = async () => undefined;
  const sinks: Sinks = {
    storeTrades: noop,
    storeAlerts: noop,
    writeLatest: noop,
    publishAlerts: noop,
    writeBars: noop,
    writeAlerts: noop,
    writeDeadLetters: noop,
  };
  const core = new MarketAggregator({
    intervals: [{ name: '1s', lengthUs: 1_000_000 }],
    allowedLatenessUs: 0,
    alertWindowUs: 60_000_000,
    alertThresholdPct: 1,
  });
  const tracing = { exportedSpans: 0, failedExports: 0 };
  const registries: Registry[] = [
    createAggregatorMetrics({
      pipeline: new BatchPipeline(core, sinks, { maxMessageBytes: 4096 }),
      consumer: () => undefined,
      errors: { commitFailures: 0, kafkaClientErrors: 0 },
      tracing,
    }).registry,
    createProducerMetrics({
      producer: {
        stats: { sent: 0, acked: 0, failed: 0, resent: 0 },
        inFlight: 0,
      } as unknown as KafkaProducer,
      counters: createProducerCounters(),
      deliveryLatency: new LatencyHistogram(),
      tracing,
      feed: () => undefined,
    }).registry,
  ];
  const out = new Map<string, string>();
  for (const r of registries) for (const m of await r.getMetricsAsJSON()) out.set(m.name, String(m.type));
  return out;
}

const base = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

describe('metrics, dashboards and rules as code', () => {
  it('names every metric by the Prometheus conventions and documents every Tickflow one', async () => {
    const all = await families();
    const own = [...all].filter(([name]) => name.startsWith('tickflow_'));
    expect(own.length).toBeGreaterThan(30);
    for (const [name, type] of own) {
      expect(name).toMatch(/^tickflow_(producer|aggregator)_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_(seconds|messages|records)$/);
      expect(DOCS, `${name} is not documented in the README's Observability section`).toContain(
        `| \`${name}\` |`,
      );
    }
  });

  it('queries only metrics that the apps, the runtime or the Kafka Exporter publish', async () => {
    const all = await families();
    const known = (m: string) =>
      all.has(base(m)) ||
      all.has(m) ||
      KAFKA_EXPORTER.includes(m) ||
      m.startsWith('nodejs_') ||
      m.startsWith('process_');
    const referenced = new Set<string>();
    const names = /\b((?:tickflow|kafka|nodejs|process)_[a-z0-9_]+)/g;
    for (const q of dashboardQueries())
      for (const m of q.expr.matchAll(names)) referenced.add(m[1] as string);
    for (const m of RULES.matchAll(names)) referenced.add(m[1] as string);
    expect([...referenced].filter((m) => !known(m))).toEqual([]);
    expect(referenced.has('tickflow_aggregator_end_to_end_latency_seconds_bucket')).toBe(true);
    expect(referenced.has('kafka_consumergroup_lag')).toBe(true);
  });

  it('ships well-formed Grafana dashboards: unique ids, the datasource variable, a description per panel', () => {
    const dashboards = loadDashboards();
    expect(dashboards.map((d) => d.file)).toEqual([
      'tickflow-kafka.json',
      'tickflow-pipeline.json',
      'tickflow-sinks.json',
    ]);
    for (const { file, json } of dashboards) {
      expect(json.uid, file).toBe(file.replace(/\.json$/, ''));
      const ids = json.panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const p of json.panels as unknown as Array<Record<string, unknown>>) {
        const grid = p.gridPos as { x: number; w: number };
        expect(grid.x + grid.w, `${file} ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.datasource, `${file} ${p.title}`).toEqual({ type: 'prometheus', uid: `$\{datasource}` });
        expect(String(p.description ?? ''), `${file} ${p.title}`).not.toBe('');
        const targets = p.targets as Array<{ refId: string; expr: string }>;
        expect(targets.length, `${file} ${p.title}`).toBeGreaterThan(0);
        expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
      }
    }
  });

  it('instantiates template variables as Grafana does with "All" selected', () => {
    expect(
      instantiate(
        `sum(rate(x{namespace=~"$namespace", sink=~"$\{sink}", t=~"$\{topic:regex}"}[$__rate_interval]))`,
      ),
    ).toBe('sum(rate(x{namespace=~".*", sink=~".*", t=~".*"}[1m]))');
  });
});
