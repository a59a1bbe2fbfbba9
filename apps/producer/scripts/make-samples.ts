// Regenerates samples/binance-trades.jsonl and samples/finnhub-trades.jsonl: a local fake exchange streams a
// deterministic synthetic tape, and the producer's own `--record` path (configuration -> openLiveFeed ->
// FrameRecorder) writes the frames. Nothing is downloaded. Run: node apps/producer/scripts/make-samples.ts [DIR]
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@tickflow/telemetry';
import { loadProducerConfig } from '../src/config.ts';
import {
  binanceTradeFrame,
  FakeExchange,
  FINNHUB_PING,
  finnhubTradeFrame,
  openLiveFeed,
  syntheticTape,
} from '../src/feeds/index.ts';

export const SAMPLES = {
  binance: { file: 'binance-trades.jsonl', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'] },
  finnhub: { file: 'finnhub-trades.jsonl', symbols: ['AAPL', 'MSFT', 'NVDA', 'TSLA'] },
} as const;

const quiet: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
};

/** 2026-01-05 14:30:00 UTC, the US market open: about two minutes of trades per sample. */
const START_MS = 1_767_623_400_000;

function binanceFrames(): string[] {
  const tape = syntheticTape({
    symbols: SAMPLES.binance.symbols,
    count: 300,
    seed: 11,
    startMs: START_MS,
    stepMs: 400,
  });
  return tape.map(binanceTradeFrame);
}

function finnhubFrames(): string[] {
  const tape = syntheticTape({
    symbols: SAMPLES.finnhub.symbols,
    count: 600,
    seed: 12,
    startMs: START_MS,
    stepMs: 200,
    firstId: 1,
  });
  const frames: string[] = [];
  // Finnhub batches trades: frames of 1..4 trades, and a keep-alive ping every tenth frame.
  for (let i = 0, size = 1, n = 0; i < tape.length; i += size, size = (size % 4) + 1) {
    frames.push(finnhubTradeFrame(tape.slice(i, i + size)));
    if (++n % 10 === 0) frames.push(FINNHUB_PING);
  }
  return frames;
}

async function record(source: 'binance' | 'finnhub', frames: readonly string[], file: string): Promise<void> {
  const apiKey = 'sample-key';
  const ex = await FakeExchange.start({ protocol: source, apiKey });
  const symbols = SAMPLES[source].symbols;
  ex.onConnection = async (client) => {
    if (source === 'finnhub') await client.subscribed(symbols.length);
    for (const f of frames) client.send(f);
  };
  await rm(file, { force: true });
  const cfg = loadProducerConfig(['--source', source, '--symbols', symbols.join(','), '--record', file], {
    BINANCE_WS_URL: ex.url,
    FINNHUB_WS_URL: ex.url,
    FINNHUB_API_KEY: apiKey,
  });
  const stop = new AbortController();
  const feed = await openLiveFeed(cfg, quiet, stop.signal);
  try {
    const drained = (async () => {
      for await (const _ of feed) {
        // trades are not needed: the recording is the product
      }
    })();
    const deadline = Date.now() + 30_000;
    while (feed.stats.messages < frames.length) {
      if (Date.now() > deadline)
        throw new Error(`${source}: only ${feed.stats.messages} of ${frames.length} frames`);
      await new Promise((r) => setTimeout(r, 10));
    }
    stop.abort();
    await drained;
    if (feed.stats.recorded !== frames.length || feed.stats.malformed !== 0) {
      throw new Error(`${source}: recorded ${feed.stats.recorded} of ${frames.length} frames`);
    }
  } finally {
    await feed.close();
    await ex.stop();
  }
}

/** Writes both samples into `dir`; returns their paths. */
export async function makeSamples(dir: string): Promise<{ binance: string; finnhub: string }> {
  await mkdir(dir, { recursive: true });
  const binance = join(dir, SAMPLES.binance.file);
  const finnhub = join(dir, SAMPLES.finnhub.file);
  await record('binance', binanceFrames(), binance);
  await record('finnhub', finnhubFrames(), finnhub);
  return { binance, finnhub };
}

export const SAMPLES_DIR = fileURLToPath(new URL('../../../samples/', import.meta.url));

if (import.meta.main) {
  const dir = resolve(process.argv[2] ?? SAMPLES_DIR);
  const out = await makeSamples(dir);
  process.stdout.write(`wrote ${out.binance}\nwrote ${out.finnhub}\n`);
}
