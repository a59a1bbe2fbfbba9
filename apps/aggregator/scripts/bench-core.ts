// Throughput of the pure aggregation core (add + drain), not a test: `node apps/aggregator/scripts/bench-core.ts
// [--trades 2000000] [--symbols 12] [--batch 500] [--runs 5]`. Trades are generated up front so only
// the core is timed. Each trade gets its own symbol string, as protobuf decoding produces, so the Map
// lookup pays for hashing like it does in the app.
import { parseArgs } from 'node:util';
import { DEFAULT_CORE_CONFIG, MarketAggregator } from '../src/core/aggregator.ts';
import type { Trade } from '../src/core/types.ts';

const { values } = parseArgs({
  options: {
    trades: { type: 'string', default: '2000000' },
    symbols: { type: 'string', default: '12' },
    batch: { type: 'string', default: '500' },
    runs: { type: 'string', default: '5' },
  },
});
const count = Number(values.trades);
const symbolCount = Number(values.symbols);
const batchSize = Number(values.batch);
const runs = Number(values.runs);

const T0 = 1_767_364_200_000_000;
const FEED_RATE = 20_000; // simulated trades per second of event time: ~100 s of market, thousands of bars
const names = Array.from({ length: symbolCount }, (_, i) => `SYM${String.fromCharCode(65 + (i % 26))}${i}`);

// Deterministic PRNG (mulberry32) so runs are comparable.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const prices = names.map(() => 50 + random() * 200);
const trades: Trade[] = new Array(count);
const arrivalUs = new Float64Array(Math.ceil(count / batchSize));
for (let i = 0; i < count; i++) {
  const sym = Math.floor(random() * symbolCount);
  const wall = T0 + Math.floor((i * 1_000_000) / FEED_RATE);
  // 10 % arrive out of order by up to 500 ms (within the 1 s lateness), 0.1 % by up to 5 s (mostly late).
  const r = random();
  const back = r < 0.001 ? Math.floor(random() * 5_000_000) : r < 0.1 ? Math.floor(random() * 500_000) : 0;
  const price = (prices[sym] as number) * (1 + (random() - 0.5) * 0.002);
  prices[sym] = price;
  trades[i] = {
    symbol: (names[sym] as string).split('').join(''), // a fresh string, like decoded input
    price,
    size: 1 + Math.floor(random() * 100),
    eventTimeUs: wall - back,
    ingestTimeUs: wall,
    source: 'synthetic',
    tradeId: String(i),
  };
  if (i % batchSize === batchSize - 1 || i === count - 1)
    arrivalUs[Math.floor(i / batchSize)] = wall + 20_000;
}

function runOnce(n: number): { seconds: number; bars: number; alerts: number; late: number } {
  const core = new MarketAggregator(DEFAULT_CORE_CONFIG);
  let bars = 0;
  let alerts = 0;
  let late = 0;
  const start = process.hrtime.bigint();
  for (let b = 0; b * batchSize < n; b++) {
    const now = arrivalUs[b] as number;
    const end = Math.min(n, (b + 1) * batchSize);
    for (let i = b * batchSize; i < end; i++) {
      if (core.add(trades[i] as Trade, now).late) late++;
    }
    const out = core.drain(now);
    bars += out.bars.length;
    alerts += out.alerts.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rest = core.flushAll();
  return { seconds, bars: bars + rest.bars.length, alerts: alerts + rest.alerts.length, late };
}

runOnce(Math.min(count, 200_000)); // warm-up: let the JIT optimise add/drain
const rates: number[] = [];
let last = runOnce(count);
for (let r = 0; r < runs; r++) {
  last = runOnce(count);
  rates.push(count / last.seconds);
}
rates.sort((a, b) => a - b);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `core add+drain: ${count.toLocaleString('en-US')} trades, ${symbolCount} symbols, batches of ${batchSize}, ` +
    `${runs} runs (Node ${process.version})`,
);
console.log(
  `  trades/s median ${fmt(rates[Math.floor(rates.length / 2)] as number)}, ` +
    `min ${fmt(rates[0] as number)}, max ${fmt(rates[rates.length - 1] as number)}`,
);
console.log(
  `  per run: ${last.bars} bars, ${last.alerts} alerts, ${last.late} trades late for some interval`,
);
