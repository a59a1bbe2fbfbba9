import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '@tickflow/stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KafkaExporterServer, startKafkaExporter } from '../../apps/cli/src/kafka-exporter.ts';
import { type RunningCli, startCli, waitFor } from '../support/cli.ts';
import { CHART_DIR, dashboardQueries, instantiate } from '../support/dashboards.ts';
import { type IsolatedPipeline, isolatedPipeline } from '../support/isolation.ts';

const RULES = `${CHART_DIR}rules/tickflow-rules.yaml`;
const RULE_TESTS = fileURLToPath(new URL('./tickflow-rules.test.yaml', import.meta.url));

interface PromResponse<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}
type Vector = {
  resultType: string;
  result: Array<{ metric: Record<string, string>; value: [number, string] }>;
};

function requireBinary(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `${name} is not installed: scripts/bootstrap.sh installs the Debian package 'prometheus'`,
    );
  }
}

/**
 * A real Prometheus (the Debian package) scraping a running local pipeline (producer, aggregator and
 * the Kafka Exporter stand-in), then every dashboard panel's PromQL evaluated through its HTTP API
 * (each must parse and return data) and the alerting rules checked by promtool and loaded into it.
 */
describe('dashboards and alerts against a real Prometheus', () => {
  let iso: IsolatedPipeline;
  let agg: RunningCli;
  let producer: RunningCli;
  let exporter: KafkaExporterServer;
  let prometheus: ChildProcess;
  let dir: string;
  let api: string;

  const query = async (expr: string): Promise<PromResponse<Vector>> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as PromResponse<Vector>;
  };
  const values = async (expr: string) =>
    (await query(expr)).data?.result?.map((r) => Number(r.value[1])).filter(Number.isFinite) ?? [];

  beforeAll(async () => {
    const bin = requireBinary('prometheus');
    const stack = inject('stack');
    iso = await isolatedPipeline(stack, 3);
    const [aggPort, prodPort, promPort] = (await freePorts(3)) as [number, number, number];
    agg = startCli(['aggregate'], { ...iso.env, METRICS_PORT: String(aggPort) });
    await waitFor('partitions assigned', () => agg.output().includes('partitions assigned'), 60_000);
    producer = startCli(['produce', '--rate', '500', '--duration', '300s'], {
      ...iso.env,
      METRICS_PORT: String(prodPort),
    });
    exporter = await startKafkaExporter({
      brokers: stack.brokers,
      port: 0,
      topicFilter: new RegExp(`-${iso.id}$`),
      groupFilter: new RegExp(`^${iso.group}$`),
    });
    dir = mkdtempSync(join(tmpdir(), 'tickflow-prom-'));
    const exporterTarget = new URL(exporter.url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        `  - { job_name: tickflow-producer, static_configs: [{ targets: ['127.0.0.1:${prodPort}'] }] }`,
        `  - { job_name: tickflow-aggregator, static_configs: [{ targets: ['127.0.0.1:${aggPort}'] }] }`,
        `  - { job_name: kafka-exporter, static_configs: [{ targets: ['${exporterTarget}'] }] }`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prometheus.stderr?.on('data', (c: Buffer) => {
      promLog += c.toString();
    });
    api = `http://127.0.0.1:${promPort}`;
    await waitFor(
      'every target scraped and the pipeline flowing',
      async () => {
        if (prometheus.exitCode !== null || prometheus.signalCode !== null)
          throw new Error(`prometheus exited: ${promLog}`);
        const res = await fetch(`${api}/api/v1/targets`).catch((e: Error) => {
          throw new Error(
            `${e.message} ${String((e as { cause?: unknown }).cause)} ${api} pid ${prometheus.pid} (prometheus: ${promLog.slice(-500)})`,
          );
        });
        const targets = (await res.json()) as PromResponse<{
          activeTargets: Array<{ health: string }>;
        }>;
        if (
          targets.data.activeTargets.length !== 3 ||
          targets.data.activeTargets.some((t) => t.health !== 'up')
        )
          return false;
        const flowing = await Promise.all([
          values('sum(rate(tickflow_aggregator_end_to_end_latency_seconds_count[1m])) > 0'),
          values('sum(rate(tickflow_producer_delivery_latency_seconds_count[1m])) > 0'),
          values('sum(rate(kafka_consumergroup_current_offset[1m])) > 0'),
          values('sum(rate(nodejs_gc_duration_seconds_count{job="tickflow-producer"}[1m])) > 0'),
        ]);
        return flowing.every((v) => v.length > 0);
      },
      120_000,
      1000,
    );
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    producer?.child.kill('SIGTERM');
    await producer?.exited;
    agg?.child.kill('SIGTERM');
    await agg?.exited;
    await exporter?.close();
    await iso?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('promtool accepts the rules and they pass their unit tests', () => {
    const promtool = requireBinary('promtool');
    expect(execFileSync(promtool, ['check', 'rules', RULES], { encoding: 'utf8' })).toMatch(
      /SUCCESS: \d+ rules found/,
    );
    expect(execFileSync(promtool, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' })).toContain('SUCCESS');
  });

  it('evaluates every dashboard panel: each query parses and returns data', async () => {
    const queries = dashboardQueries();
    expect(new Set(queries.map((q) => q.dashboard))).toEqual(
      new Set(['Tickflow pipeline', 'Tickflow sinks', 'Tickflow Kafka']),
    );
    const failures: string[] = [];
    for (const q of queries) {
      const r = await query(instantiate(q.expr));
      if (r.status !== 'success') failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${r.error}`);
      else if (r.data.result.length === 0) failures.push(`${q.dashboard} / ${q.panel} / ${q.refId}: no data`);
    }
    expect(failures).toEqual([]);
  });

  it('shows live figures on the headline panels', async () => {
    const positive = [
      'sum(rate(tickflow_aggregator_stored_total[1m]))',
      'sum(rate(tickflow_producer_produced_total[1m]))',
      'histogram_quantile(0.99, sum by (le) (rate(tickflow_aggregator_end_to_end_latency_seconds_bucket[1m])))',
      'histogram_quantile(0.99, sum by (le) (rate(tickflow_aggregator_sink_write_seconds_bucket{sink="postgres_trades"}[1m])))',
      'histogram_quantile(0.99, sum by (le) (rate(tickflow_aggregator_sink_write_seconds_bucket{sink="redis_latest"}[1m])))',
      'count(tickflow_aggregator_assigned_partitions)',
      'sum(kafka_topic_partitions)',
      'sum(rate(kafka_topic_partition_current_offset[1m]))',
    ];
    for (const expr of positive) {
      const v = await values(expr);
      expect(v, expr).toHaveLength(1);
      expect(v[0], expr).toBeGreaterThan(0);
    }
    // The partitions the aggregator owns are the topic's, and their lag series are all there.
    expect(await values('count(tickflow_aggregator_consumer_lag_messages)')).toEqual([3]);
    expect(await values('count(kafka_consumergroup_lag)')).toEqual([3]);
  });

  it('loads the alerting rules into Prometheus, each evaluating without error', async () => {
    const rules = await waitFor(
      'rules evaluated',
      async () => {
        const r = (await (await fetch(`${api}/api/v1/rules`)).json()) as PromResponse<{
          groups: Array<{
            rules: Array<{ name: string; query: string; health: string; lastError?: string }>;
          }>;
        }>;
        const all = r.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((x) => x.health !== 'unknown') ? all : undefined;
      },
      30_000,
      500,
    );
    expect(rules.map((r) => r.name).sort()).toEqual([
      'TickflowConsumerLagHigh',
      'TickflowConsumptionPaused',
      'TickflowDeadLettersGrowing',
      'TickflowEndToEndLatencyHigh',
      'TickflowProducerDeliveryErrors',
      'TickflowSinkErrors',
    ]);
    for (const r of rules) {
      expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
      expect((await query(r.query)).status, r.name).toBe('success');
    }
    // A healthy pipeline fires none of them.
    const alerts = (await (await fetch(`${api}/api/v1/alerts`)).json()) as PromResponse<{
      alerts: Array<{ labels: { alertname: string }; state: string }>;
    }>;
    expect(alerts.data.alerts.filter((a) => a.state === 'firing')).toEqual([]);
  });
});
