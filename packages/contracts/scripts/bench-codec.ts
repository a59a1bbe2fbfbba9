// Micro-benchmark of the hot-path codecs: node scripts/bench-codec.ts [iterations]
// Indicative only (one core, warm JIT, sensitive to machine load); end-to-end throughput is `tickflow bench`.
import { type Bar, decodeBar, decodeTrade, encodeBar, encodeTrade, type Trade } from '../src/index.ts';

const iterations = Number(process.argv[2] ?? 1_000_000);

// 1024 distinct trades so the measurement does not ride on a single cached shape or string.
const trades: Trade[] = Array.from({ length: 1024 }, (_, i) => ({
  symbol: i % 2 ? 'AAPL' : 'BTCUSDT',
  price: 189.52 + i / 100,
  size: i % 2 ? 100 : 0.0123,
  eventTimeUs: 1_767_364_200_123_456 + i,
  ingestTimeUs: 1_767_364_200_124_000 + i,
  source: 'synthetic',
  tradeId: String(1_000_000 + i),
}));
// Kafka hands values out as Buffers, so decode is measured on Buffers.
const encoded = trades.map((t) => Buffer.from(encodeTrade(t)));
const bar: Bar = {
  symbol: 'AAPL',
  interval: '1m',
  startUs: 1_767_364_200_000_000,
  open: 189.5,
  high: 190.1,
  low: 189.2,
  close: 189.9,
  volume: 12_345,
  vwap: 189.71,
  tradeCount: 420,
};
const barBytes = Buffer.from(encodeBar(bar));

// Results feed a global so the JIT cannot drop the calls as dead code.
let sink = 0;

function measure(name: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 100_000; i++) fn(i); // warm-up: let the JIT optimise before timing
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn(i) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - start);
  const opsPerSec = Math.round((iterations / ns) * 1e9).toLocaleString('en-US');
  console.log(
    `${name.padEnd(12)} ${opsPerSec.padStart(11)} ops/s ${(ns / iterations).toFixed(0).padStart(6)} ns/op`,
  );
}

console.log(
  `node ${process.version}, ${iterations.toLocaleString('en-US')} iterations, Trade ≈ ${encoded[0]?.length} B`,
);
measure('encodeTrade', (i) => encodeTrade(trades[i & 1023] as Trade));
measure('decodeTrade', (i) => decodeTrade(encoded[i & 1023] as Uint8Array).ok);
measure('encodeBar', () => encodeBar(bar));
measure('decodeBar', () => decodeBar(barBytes));
if (sink < 0) console.log(sink);
