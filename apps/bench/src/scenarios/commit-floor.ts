import {
  createPool,
  createTradeWriter,
  inspectServer,
  migrate,
  type Trade,
  writerOptionsFor,
} from '@tickflow/storage';
import { LatencyHistogram } from '@tickflow/telemetry';
import type { Latency } from '../result.ts';

/**
 * The least a batch's durable write adds to end-to-end latency: `writes` writes of `rows` fresh trades,
 * one at a time (INSERT + commit, as the aggregator's trade sink does them), into the run's database
 * while nothing else is running. Every message waits for its batch's write after it is polled, so the
 * transport floor plus this is the lowest end-to-end latency the pipeline could show on this machine.
 */
export async function measureCommitFloor(
  databaseUrl: string,
  rows: number,
  writes: number,
): Promise<Latency> {
  const pool = await createPool(databaseUrl, { max: 1 });
  try {
    await migrate(pool);
    const writer = createTradeWriter(pool, writerOptionsFor(await inspectServer(pool)));
    const latency = new LatencyHistogram();
    const t0Us = Date.now() * 1000;
    let seq = 0;
    for (let w = 0; w < writes; w++) {
      const trades: Trade[] = new Array(rows);
      for (let i = 0; i < rows; i++, seq++) {
        const eventTimeUs = t0Us + seq;
        trades[i] = {
          symbol: `FLOOR${seq % 50}`,
          price: 100 + (seq % 1000) / 100,
          size: 1,
          eventTimeUs,
          ingestTimeUs: eventTimeUs,
          source: 'synthetic',
          tradeId: String(seq),
        };
      }
      const start = performance.now();
      await writer.write(trades);
      latency.recordUs((performance.now() - start) * 1000);
    }
    return latency.summary();
  } finally {
    await pool.end();
  }
}
