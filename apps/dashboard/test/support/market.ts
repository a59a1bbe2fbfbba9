// Replay files for the dashboard's tests: a realistic history to backfill (so the board, the chart and the
// alerts feed have something to show), and a price jump that makes the aggregator emit one known alert.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplayTrade {
  symbol: string;
  price: number;
  size: number;
  event_time_us: number;
  trade_id: string;
}

const MINUTE_US = 60_000_000;

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Start prices and volatilities (per √s) of the synthetic producer's symbols, so the backfill joins the live feed. */
export const SYMBOL_PROFILES: Record<string, { price: number; vol: number; crypto: boolean }> = {
  AAPL: { price: 230, vol: 0.00025, crypto: false },
  MSFT: { price: 420, vol: 0.00022, crypto: false },
  NVDA: { price: 140, vol: 0.00045, crypto: false },
  TSLA: { price: 350, vol: 0.0006, crypto: false },
  META: { price: 580, vol: 0.00035, crypto: false },
  AMZN: { price: 200, vol: 0.0003, crypto: false },
  GOOGL: { price: 170, vol: 0.0003, crypto: false },
  SOLUSDT: { price: 190, vol: 0.0007, crypto: true },
  BTCUSDT: { price: 95_000, vol: 0.0004, crypto: true },
  ETHUSDT: { price: 3_300, vol: 0.0005, crypto: true },
};

/**
 * A random-walk history of `minutes` ending at `endUs`, generated backwards from each symbol's start price
 * so that the synthetic producer, which starts at that price, continues it without a gap. About one trade
 * per symbol every `meanGapMs`, plus about one jump of 1-2.5 % per symbol and hour that the aggregator turns into alerts.
 */
export function backfill(
  symbols: readonly string[],
  endUs: number,
  minutes: number,
  seed = 7,
  meanGapMs = 2000,
): ReplayTrade[] {
  const r = rng(seed);
  const z = gaussian(r);
  const out: ReplayTrade[] = [];
  const startUs = endUs - minutes * MINUTE_US;
  for (const symbol of symbols) {
    const profile = SYMBOL_PROFILES[symbol] ?? { price: 100, vol: 0.0003, crypto: false };
    let logPrice = Math.log(profile.price);
    let t = endUs;
    let n = 0;
    while (t > startUs) {
      const price = Math.round(Math.exp(logPrice) * 100) / 100;
      const size = profile.crypto
        ? Math.max(0.0001, Math.round((r() * 2000) / price / 0.0001) * 0.0001)
        : Math.max(1, Math.round(Math.exp(z() * 0.9) * 60));
      out.push({
        symbol,
        price,
        size: Number(size.toFixed(4)),
        event_time_us: t,
        trade_id: `bf-${symbol}-${n++}`,
      });
      const gapUs = Math.max(1000, Math.round(-Math.log(1 - r()) * meanGapMs * 1000));
      const dtS = gapUs / 1e6;
      // Walking back in time: the earlier price is this one minus the step.
      logPrice -= profile.vol * 1.3 * Math.sqrt(dtS) * z();
      if (r() < dtS / 3600) logPrice -= (r() < 0.5 ? -1 : 1) * (0.01 + r() * 0.015);
      t -= gapUs;
    }
  }
  return out.sort((a, b) => a.event_time_us - b.event_time_us);
}

export interface InjectedAlert {
  trades: ReplayTrade[];
  windowStartUs: number;
  windowEndUs: number;
  open: number;
  close: number;
  changePct: number;
}

/**
 * Trades of a fresh symbol that jump `jumpPct` inside the previous full minute, then one trade after that
 * minute so the symbol's watermark closes the window at once: the aggregator (default 60 s alert window,
 * 0.5 % threshold, 1 s lateness) emits exactly one UP alert for [windowStart, windowEnd).
 */
export function alertTrades(symbol: string, nowUs: number, base = 250, jumpPct = 1.2): InjectedAlert {
  const current = nowUs - (nowUs % MINUTE_US);
  const windowStartUs = current - MINUTE_US;
  const windowEndUs = current;
  const close = Math.round(base * (1 + jumpPct / 100) * 100) / 100;
  const closerUs = Math.max(nowUs, windowEndUs + 1_500_000);
  const trades: ReplayTrade[] = [
    { symbol, price: base, size: 100, event_time_us: windowStartUs + 5_000_000, trade_id: `${symbol}-a1` },
    {
      symbol,
      price: base + 0.4,
      size: 50,
      event_time_us: windowStartUs + 20_000_000,
      trade_id: `${symbol}-a2`,
    },
    { symbol, price: close, size: 300, event_time_us: windowStartUs + 40_000_000, trade_id: `${symbol}-a3` },
    { symbol, price: close + 0.05, size: 20, event_time_us: closerUs, trade_id: `${symbol}-a4` },
  ];
  return { trades, windowStartUs, windowEndUs, open: base, close, changePct: (close / base - 1) * 100 };
}

export function writeReplay(dir: string, name: string, trades: readonly ReplayTrade[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${trades.map((t) => JSON.stringify(t)).join('\n')}\n`);
  return file;
}

/** Minimal Server-Sent Events reader over fetch, for tests. */
export async function* readSse(
  url: string,
  signal: AbortSignal,
): AsyncGenerator<{ event: string; data: string }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}
