// How the bench runs its load generator, shared by the scenarios and the Markdown report.

/**
 * Producer flags of every bench run. Trades are ~60-byte records and the broker is on loopback, where
 * lz4 only costs: the broker decompresses every batch to validate it (measured at 5k msg/s: broker
 * 0.36 -> 0.21 cores, delivery p99 89 -> 8.7 ms with --compression none).
 */
export const BENCH_PRODUCER_FLAGS = ['--compression', 'none'];

/** The bench's producer flags with a linger and a delivery-report mode. */
const producerFlags = (lingerMs: number, deliveryReports: 'all' | 'errors'): string[] => [
  ...BENCH_PRODUCER_FLAGS,
  '--linger-ms',
  String(lingerMs),
  '--delivery-reports',
  deliveryReports,
];

/**
 * Fixed-rate runs (latency, tracing, soak, transport floor) linger 2 ms instead of the producer's
 * default 5: a record waits up to the linger before it is sent, and the latency targets leave little
 * room for that (measured at 20k msg/s: producer -> broker ack mean 8.75 -> 4.4 ms from 5 to 1 ms).
 * 1 ms made twice the produce requests and fetches for the same records, and at 20k msg/s that CPU
 * is what the latency tail queues behind: three alternating pairs, 2 ms against 1 ms, gave end-to-end
 * p99 9.1 / 38.2 / 19.3 against 35.6 / 93.0 / 83.3 ms, means 3.9 / 9.3 / 4.7 against 5.3 / 14.1 /
 * 11.3 ms, and 1.13 / 1.52 / 1.20 against 1.39 / 1.56 / 1.54 cores in all (3 and 5 ms: no better).
 */
export const LATENCY_LINGER_MS = 2;

/**
 * Fixed-rate runs also report failed deliveries only: a delivery report per record cost the producer
 * ~0.1 of the two cores at 20k msg/s (0.31-0.36 -> 0.20-0.29), CPU the pipeline's tail queues behind
 * (five alternating pairs, errors-only first: end-to-end p99 49.6 / 42.3 / 33.6 / 197.8 / 36.7 ms
 * against 70.3 / 79.4 / 52.3 / 76.9 / 49.6 ms, the fourth errors-only run a host stall). The
 * producer -> broker split comes from the broker's append time instead (LogAppendTime topics, see
 * context.ts).
 */
export const LATENCY_PRODUCER_FLAGS = producerFlags(LATENCY_LINGER_MS, 'errors');

/**
 * The tracing scenario's producer: as the fixed-rate runs, but every level, off included, reports each
 * delivery, because a traced producer ends its span at the broker's ack (it needs the reports); so
 * the levels differ only in tracing.
 */
export const TRACING_PRODUCER_FLAGS = producerFlags(LATENCY_LINGER_MS, 'all');

/**
 * Max-rate runs batch harder on the producer (fewer, larger produce requests: measured 14.7k -> 25.8k
 * msg/s stored with linger 5 -> 25 ms, broker CPU 0.70 -> 0.37 cores).
 */
export const THROUGHPUT_LINGER_MS = 25;

/**
 * At --rate max the producer is a load generator sharing two cores with the pipeline under test:
 * it reports errors only (a delivery report per record costs ~5 µs of its main thread: 0.73 -> 0.44
 * cores at 40k msg/s) and runs at nice 10, so it fills the backlog with CPU the pipeline leaves
 * instead of taking the pipeline's share for records nobody consumes yet.
 */
export const MAX_RATE_PRODUCER_FLAGS = producerFlags(THROUGHPUT_LINGER_MS, 'errors');
export const MAX_RATE_PRODUCER_NICE = 10;
