import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../../test/support/cli.ts';
import { benchResultSchema } from '../src/result.ts';

describe('tickflow bench --quick', () => {
  it('provisions its own stack, runs every scenario and writes a valid JSON result and a Markdown table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tickflow-bench-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const run = await runCli(['bench', '--quick', '--out', out], {});
    expect(run.code, run.output).toBe(0);
    const result = benchResultSchema.parse(JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8')));
    expect(result.quick).toBe(true);
    expect(result.scenarios.map((s) => s.name)).toEqual([
      'max-throughput',
      'fixed-rate',
      'fixed-rate',
      'transport-floor',
      'kafka-limit',
      'scale-out',
      'tracing',
    ]);
    for (const s of result.scenarios) {
      if (s.name === 'max-throughput') expect(s.storedPerSec).toBeGreaterThan(0);
      if (s.name === 'fixed-rate') {
        expect(s.endToEnd.count).toBeGreaterThan(0);
        // Split at the broker's append time (LogAppendTime topics), with no delivery report per record.
        expect(s.split.producerToBroker.count).toBe(s.endToEnd.count);
        expect(s.split.brokerToAggregator.count).toBe(s.endToEnd.count);
        expect(s.split.producerToBroker.mean).toBeLessThan(s.endToEnd.mean);
      }
      if (s.name === 'transport-floor') {
        expect(s.ingestToPolled.count).toBeGreaterThan(0);
        expect(s.producerToBroker.count).toBe(s.ingestToPolled.count);
        // Kafka's own producer ran at the same rate and its summary line was parsed.
        expect(s.kafkaProducer?.ack.max).toBeGreaterThan(0);
      }
      if (s.name === 'kafka-limit') expect(s.consumerPerfPerSec).toBeGreaterThan(0);
      if (s.name === 'tracing') {
        expect(s.runs.map((r) => r.level)).toEqual(['off', '1%', '100%']);
        for (const r of s.runs) expect(r.endToEnd.count).toBeGreaterThan(0);
        // Off exports nothing; at 100 % every message's spans reach the endpoint.
        expect(s.runs[0]?.exportRequests).toBe(0);
        expect(s.runs[2]?.exportRequests).toBeGreaterThan(0);
      }
    }
    const md = readFileSync(join(out, 'quick.md'), 'utf8');
    expect(md).toContain('Command: `tickflow bench --quick');
    expect(md).toContain('## Targets');
  });
});
