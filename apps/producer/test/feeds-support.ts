import type { Trade } from '@tickflow/contracts';
import type { Logger } from '@tickflow/telemetry';
import type { ExchangeTrade, FeedConnectionOptions, LiveFeed, RetryInfo } from '../src/feeds/index.ts';

/** Millisecond-scale timers so failure scenarios run in a blink; jitter 0 makes the delays exact. */
export function fastConnection(
  overrides: Partial<FeedConnectionOptions> = {},
): Partial<FeedConnectionOptions> {
  return {
    idleTimeoutMs: 5_000,
    connectTimeoutMs: 2_000,
    backoff: { initialMs: 10, maxMs: 80, multiplier: 2, jitter: 0 },
    stableAfterMs: 60_000,
    rotationOverlapMs: 50,
    ...overrides,
  };
}

/** Pulls `n` trades from the feed (failing after `timeoutMs` with what arrived so far). */
export async function take(feed: LiveFeed, n: number, timeoutMs = 4_000): Promise<Trade[]> {
  const out: Trade[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`timed out after ${out.length} of ${n} trades; stats ${JSON.stringify(feed.stats)}`),
        ),
      timeoutMs,
    );
  });
  try {
    while (out.length < n) {
      const r = await Promise.race([feed.next(), timeout]);
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Polls until `probe` is true. */
export async function until(what: string, probe: () => boolean, timeoutMs = 4_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A logger that keeps every line, to check what would have been printed (e.g. that no key leaks). */
export function captureLogger(lines: string[] = []): Logger & { lines: string[] } {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return {
    lines,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => captureLogger(lines),
  };
}

export function retries(): { list: RetryInfo[]; onRetry: (r: RetryInfo) => void } {
  const list: RetryInfo[] = [];
  return { list, onRetry: (r) => list.push(r) };
}

/** The contract Trade a Binance trade event maps to. */
export function binanceTrade(t: ExchangeTrade): Trade {
  const us = t.timeMs * 1000;
  return {
    symbol: t.symbol,
    price: t.price,
    size: t.size,
    eventTimeUs: us,
    ingestTimeUs: us,
    source: 'binance',
    tradeId: String(t.id),
  };
}
