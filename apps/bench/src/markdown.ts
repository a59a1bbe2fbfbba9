import {
  LATENCY_PRODUCER_FLAGS,
  MAX_RATE_PRODUCER_FLAGS,
  MAX_RATE_PRODUCER_NICE,
  TRACING_PRODUCER_FLAGS,
} from './producer-flags.ts';
import type { BenchResult, Latency } from './result.ts';
import { overhead } from './tracing-levels.ts';

/** How the per-stage split is cut (the bench's topics are LogAppendTime; see context.ts). */
const SPLIT_NOTE =
  "the split is cut at each record's broker append time, in whole milliseconds (Kafka's timestamps), so the stage before it reads up to 1 ms short and the one after up to 1 ms long:";

const n = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (v: number) => n(v, 2);
const lat = (l: Latency) => `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)} / ${ms(l.p999)} / ${ms(l.max)}`;
/** The CPU pressure of a measured window, as a sentence. */
const pressureSentence = (pct: number) =>
  `CPU pressure (Linux PSI \`some\`): runnable tasks waited for a core during ${n(pct, 1)} % of the window.`;

/** A latency summary for the progress log: p50, p99 and mean in ms. */
export const latencyLine = (l: Latency): string =>
  `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, mean ${l.mean.toFixed(2)} ms`;

/** The human-readable results table committed next to the JSON. */
export function renderMarkdown(r: BenchResult): string {
  const out: string[] = [];
  out.push(`# Tickflow benchmark${r.quick ? ' (quick)' : ''}`, '');
  out.push(`Command: \`${r.command}\`  `, `Started: ${r.startedAt}  `);
  if (r.aggregatorNodeArgs?.length)
    out.push(`Aggregator Node flags: \`${r.aggregatorNodeArgs.join(' ')}\`  `);
  const m = r.machine;
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${n(m.memoryGiB, 1)} GiB; ${m.os}; Node ${m.node}, Kafka ${m.kafka}, PostgreSQL ${m.postgres}, Redis ${m.redis}. ` +
      'Broker, Redis, PostgreSQL, producer and aggregator all run on this one machine.',
    '',
  );
  out.push('## Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const t of r.targets)
    out.push(`| ${t.target} | ${t.value} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`);
  out.push('');
  for (const s of r.scenarios) {
    switch (s.name) {
      case 'max-throughput':
        out.push(
          '## Max throughput (producer at --rate max, one aggregator, all sinks on)',
          '',
          `Producer: \`${MAX_RATE_PRODUCER_FLAGS.join(' ')}\` at nice ${MAX_RATE_PRODUCER_NICE} (a load generator on the same two cores; see apps/bench/src/producer-flags.ts).`,
          '',
        );
        out.push(
          `Sustained end-to-end (rows stored per second over a ${n(s.steadySeconds)} s steady window): **${n(s.storedPerSec)} msg/s** (produced ${n(s.producedPerSec)} msg/s).`,
          '',
        );
        out.push('| process | CPU (cores) | peak RSS (MiB) |', '|---|---|---|');
        for (const [name, p] of Object.entries(s.processes))
          out.push(`| ${name} | ${n(p.cpuCores, 2)} | ${n(p.peakRssMiB)} |`);
        out.push('');
        break;
      case 'fixed-rate':
        out.push(`## Latency at ${n(s.requestedPerSec)} msg/s`, '');
        out.push(
          `Producer: \`${LATENCY_PRODUCER_FLAGS.join(' ')}\`. Produced ${n(s.producedPerSec)} msg/s, stored ${n(s.storedPerSec)} msg/s. Milliseconds, p50 / p90 / p99 / p99.9 / max (mean); ${SPLIT_NOTE}`,
          '',
        );
        out.push('| stage | latency |', '|---|---|');
        out.push(
          `| **end-to-end** (ingest -> durably in Redis and PostgreSQL) | **${lat(s.endToEnd)}** (${ms(s.endToEnd.mean)}) |`,
        );
        out.push(
          `| ingest -> broker append | ${lat(s.split.producerToBroker)} (${ms(s.split.producerToBroker.mean)}) |`,
        );
        out.push(
          `| broker append -> polled by the aggregator | ${lat(s.split.brokerToAggregator)} (${ms(s.split.brokerToAggregator.mean)}) |`,
        );
        out.push(
          `| decode + core, per batch | ${lat(s.split.processing)} (${ms(s.split.processing.mean)}) |`,
        );
        out.push(
          `| sink writes, per batch | ${lat(s.split.sinkWrite)} (${ms(s.split.sinkWrite.mean)}) |`,
          '',
        );
        if (s.processes) {
          const total = Object.values(s.processes).reduce((sum, p) => sum + p.cpuCores, 0);
          out.push(
            `CPU over the measured window (cores; the machine has ${r.machine.cores}): ${Object.entries(
              s.processes,
            )
              .map(([name, p]) => `${name} ${n(p.cpuCores, 2)}`)
              .join(
                ', ',
              )}; total ${n(total, 2)}.${s.cpuPressurePct === undefined ? '' : ` ${pressureSentence(s.cpuPressurePct)}`}`,
            '',
          );
        }
        break;
      case 'transport-floor':
        out.push(`## Transport floor at ${n(s.requestedPerSec)} msg/s (no sinks)`, '');
        out.push(
          `The latency runs' producer (\`${LATENCY_PRODUCER_FLAGS.join(' ')}\`) into a bare consumer with the aggregator's client, settings and poll loop that only decodes each trade: no database, no Redis, no outputs. Produced ${n(s.producedPerSec)} msg/s. Milliseconds, p50 / p90 / p99 / p99.9 / max (mean); ${SPLIT_NOTE}`,
          '',
        );
        out.push('| stage | latency |', '|---|---|');
        out.push(
          `| ingest -> broker append | ${lat(s.producerToBroker)} (${ms(s.producerToBroker.mean)}) |`,
          `| **ingest -> polled** | **${lat(s.ingestToPolled)}** (${ms(s.ingestToPolled.mean)}) |`,
          '',
        );
        if (s.cpuPressurePct !== undefined) out.push(pressureSentence(s.cpuPressurePct), '');
        if (s.commit) {
          out.push(
            `Then, with the producer stopped, ${n(s.commit.writes)} durable writes (INSERT + commit, as the aggregator's trade sink does them) of ${n(s.commit.batchRows)} trades each, the consumer's mean batch above, one at a time: **${lat(s.commit.latency)}** (${ms(s.commit.latency.mean)}). Every message waits for its batch's write after it is polled, so ingest -> polled plus this write is the least end-to-end latency the pipeline could show here.`,
            '',
          );
        }
        if (s.kafkaProducer) {
          const k = s.kafkaProducer;
          out.push(
            `Last, Kafka's own Java producer alone, nothing consuming: \`kafka-producer-perf-test --throughput ${s.requestedPerSec}\` for ${n(k.seconds)} s with the same records, partitions, \`acks=all\`, \`compression.type=none\` and \`linger.ms=${k.lingerMs}\`. Send -> broker ack, milliseconds p50 / p95 / p99 / p99.9 / max (mean), whole ms as the tool reports them, its JVM's first seconds included: **${[k.ack.p50, k.ack.p95, k.ack.p99, k.ack.p999, k.ack.max].map((v) => n(v)).join(' / ')}** (${ms(k.ack.mean)}).${k.cpuPressurePct === undefined ? '' : ` ${pressureSentence(k.cpuPressurePct)}`} This is the share of the end-to-end budget Kafka's client and broker take on this machine before any consumer or database runs.`,
            '',
          );
        }
        break;
      case 'kafka-limit':
        out.push("## Kafka's own limit on this machine", '');
        out.push(
          `${n(s.records)} records of ${s.recordBytes} bytes, ${s.partitions} partitions, same broker:`,
          '',
        );
        out.push('| tool | msg/s |', '|---|---|');
        out.push(`| kafka-producer-perf-test | ${n(s.producerPerfPerSec)} |`);
        out.push(`| kafka-consumer-perf-test | ${n(s.consumerPerfPerSec)} |`);
        out.push(`| Tickflow end-to-end (max throughput) | ${n(s.tickflowPerSec)} |`);
        out.push(
          `| Tickflow / raw consume | ${s.tickflowShareOfConsume === null ? '–' : `${n(s.tickflowShareOfConsume * 100, 1)} %`} |`,
          '',
        );
        break;
      case 'scale-out':
        out.push('## Scale-out (same consumer group, max rate)', '');
        out.push('| aggregators | stored msg/s |', '|---|---|');
        out.push(`| 1 | ${n(s.oneAggregatorPerSec)} |`, `| 2 | ${n(s.twoAggregatorsPerSec)} |`);
        out.push(
          '',
          `Speed-up: ${s.speedup === null ? '–' : `${n(s.speedup, 2)}x`} (on 2 cores this shows how much the pipeline, not the machine, limits).`,
          '',
        );
        break;
      case 'tracing': {
        out.push(`## Tracing overhead at ${n(s.requestedPerSec)} msg/s`, '');
        out.push(
          `Producer: \`${TRACING_PRODUCER_FLAGS.join(' ')}\` at every level, off included (a traced producer ends its span at the broker's ack, so it needs a report per record): compare the levels with each other, not with the latency runs above. Producer and aggregator export OTLP/HTTP (protobuf) to a local endpoint that discards; ratio = OTEL_TRACES_SAMPLER_ARG (parent-based). End-to-end milliseconds:`,
          '',
        );
        out.push(
          '| tracing | produced msg/s | stored msg/s | p50 | p99 | p99.9 | mean | p99 vs off | export requests | exported KiB |',
          '|---|---|---|---|---|---|---|---|---|---|',
        );
        const off = s.runs.find((r) => r.ratio === null);
        for (const r of s.runs) {
          const o = off && r !== off ? overhead(off.endToEnd.p99, r.endToEnd.p99) : null;
          out.push(
            `| ${r.level} | ${n(r.producedPerSec)} | ${n(r.storedPerSec)} | ${ms(r.endToEnd.p50)} | ${ms(r.endToEnd.p99)} | ${ms(r.endToEnd.p999)} | ${ms(r.endToEnd.mean)} | ${o === null ? '–' : `${o >= 0 ? '+' : ''}${n(o * 100, 1)} %`} | ${n(r.exportRequests)} | ${n(r.exportBytes / 1024)} |`,
          );
        }
        out.push('');
        break;
      }
      case 'soak':
        out.push(`## Soak at ${n(s.requestedPerSec)} msg/s for ${n(s.minutes)} min`, '');
        out.push(
          `Aggregator RSS growth after the first minute: ${n(s.rssGrowthAfterFirstMinute * 100, 1)} %.`,
          '',
        );
        out.push(
          'End-to-end latency over each 10 s window.',
          '',
          '| t (s) | RSS (MiB) | p99 (ms) | mean (ms) | stored msg/s |',
          '|---|---|---|---|---|',
        );
        for (const p of s.samples)
          out.push(
            `| ${n(p.t)} | ${n(p.rssMiB)} | ${ms(p.p99Ms)} | ${p.meanMs === undefined ? '–' : ms(p.meanMs)} | ${n(p.storedPerSec)} |`,
          );
        out.push('');
        break;
    }
  }
  return `${out.join('\n')}\n`;
}
