/**
 * A replay file built to hurt: out-of-order and late trades, exact duplicates, equal event times,
 * and malformed lines, plus the reference answers computed independently of the pipeline.
 */
export interface RefTrade {
  symbol: string;
  price: number;
  size: number;
  eventTimeUs: number;
  tradeId: string;
}

export interface RefBar {
  bucketUs: number;
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
}

export interface Dataset {
  lines: string[];
  /** Distinct trades in file (arrival) order. */
  distinct: RefTrade[];
  duplicates: number;
  malformed: number;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildDataset(seed = 42, perSymbol = 600): Dataset {
  const r = rng(seed);
  const symbols = ['AAPL', 'MSFT', 'BTCUSDT', 'ETHUSDT'];
  const base = Date.UTC(2026, 0, 5, 14, 30, 0) * 1000; // µs
  const streams = symbols.map((symbol, si) => {
    let price = 100 * (si + 1);
    const out: RefTrade[] = [];
    let t = base;
    for (let i = 0; i < perSymbol; i++) {
      // ~3 minutes per symbol; every 25th trade shares the previous event time (a tie).
      if (i % 25 !== 0 || i === 0) t += Math.floor(r() * 600_000);
      price = Math.max(1, price * (1 + (r() - 0.5) * 0.004));
      // Zero-padded ids keep arrival order, ingest order and id order aligned for ties.
      out.push({
        symbol,
        price: Math.round(price * 100) / 100,
        size: 1 + Math.floor(r() * 500),
        eventTimeUs: t,
        tradeId: String(i).padStart(6, '0'),
      });
    }
    return out;
  });
  // Interleave symbols, then disorder: swap neighbours (out of order) and delay a few trades by
  // several seconds (late: their 1 s bar has closed by the time they arrive).
  const arrival: RefTrade[] = [];
  const cursors = streams.map(() => 0);
  while (cursors.some((c, i) => c < (streams[i] as RefTrade[]).length)) {
    const i = Math.floor(r() * streams.length);
    const s = streams[i] as RefTrade[];
    const c = cursors[i] as number;
    if (c < s.length) {
      arrival.push(s[c] as RefTrade);
      cursors[i] = c + 1;
    }
  }
  for (let i = 1; i < arrival.length; i++) {
    if (r() < 0.1) [arrival[i - 1], arrival[i]] = [arrival[i] as RefTrade, arrival[i - 1] as RefTrade];
  }
  for (let n = 0; n < 20; n++) {
    const from = 10 + Math.floor(r() * (arrival.length - 200));
    const [late] = arrival.splice(from, 1);
    arrival.splice(from + 150, 0, late as RefTrade);
  }

  const lines: string[] = [];
  let duplicates = 0;
  let malformed = 0;
  const bad = [
    '{"symbol":"AAPL","price":"abc","size":1,"event_time_us":1767623400000000,"trade_id":"x1"}',
    '{"symbol":"","price":10,"size":1,"event_time_us":1767623400000000,"trade_id":"x2"}',
    '{"symbol":"AAPL","price":-5,"size":1,"event_time_us":1767623400000000,"trade_id":"x3"}',
    '{"symbol":"AAPL","price":10,"size":0,"event_time_us":1767623400000000,"trade_id":"x4"}',
    'not json at all',
    '{"symbol":"AAPL","price":10,"size":1,"trade_id":"x5"}',
    '{"symbol":"AAPL","price":10,"size":1,"ts":"yesterday","trade_id":"x6"}',
    '[1,2,3]',
  ];
  for (const [i, t] of arrival.entries()) {
    const line = JSON.stringify(
      i % 2 === 0
        ? {
            symbol: t.symbol,
            price: t.price,
            size: t.size,
            event_time_us: t.eventTimeUs,
            trade_id: t.tradeId,
          }
        : {
            symbol: t.symbol,
            price: t.price,
            size: t.size,
            ts: isoMicros(t.eventTimeUs),
            trade_id: t.tradeId,
          },
    );
    lines.push(line);
    if (r() < 0.05) {
      lines.push(line); // an exact duplicate, as a re-sent feed would produce
      duplicates++;
    }
    if (i % 300 === 7) {
      lines.push(bad[malformed % bad.length] as string);
      malformed++;
    }
  }
  return { lines, distinct: arrival, duplicates, malformed };
}

function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
}

/** bars_1m by brute force: sort each bucket by (event time, arrival), as the contract orders OHLC. */
export function referenceBars(trades: readonly RefTrade[]): RefBar[] {
  const groups = new Map<string, Array<{ t: RefTrade; arrival: number }>>();
  trades.forEach((t, arrival) => {
    const bucketUs = Math.floor(t.eventTimeUs / 60_000_000) * 60_000_000;
    const key = `${t.symbol}|${bucketUs}`;
    const g = groups.get(key) ?? [];
    g.push({ t, arrival });
    groups.set(key, g);
  });
  const bars: RefBar[] = [];
  for (const [key, g] of groups) {
    const [symbol, bucket] = key.split('|') as [string, string];
    g.sort((a, b) => a.t.eventTimeUs - b.t.eventTimeUs || a.arrival - b.arrival);
    const volume = g.reduce((s, x) => s + x.t.size, 0);
    bars.push({
      bucketUs: Number(bucket),
      symbol,
      open: (g[0] as { t: RefTrade }).t.price,
      close: (g[g.length - 1] as { t: RefTrade }).t.price,
      high: Math.max(...g.map((x) => x.t.price)),
      low: Math.min(...g.map((x) => x.t.price)),
      volume,
      vwap: g.reduce((s, x) => s + x.t.price * x.t.size, 0) / volume,
      tradeCount: g.length,
    });
  }
  return bars.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.bucketUs - b.bucketUs);
}

/** Newest trade per symbol by event time; on ties the later arrival. */
export function referenceLatest(trades: readonly RefTrade[]): Map<string, RefTrade> {
  const latest = new Map<string, RefTrade>();
  for (const t of trades) {
    const cur = latest.get(t.symbol);
    if (!cur || t.eventTimeUs >= cur.eventTimeUs) latest.set(t.symbol, t);
  }
  return latest;
}
