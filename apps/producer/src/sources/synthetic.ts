import { SYMBOL_PATTERN, type Trade } from '@tickflow/contracts';
import { createGaussian, createRng, hashString, type Rng } from './random.ts';

export type AssetKind = 'equity' | 'crypto';

export interface SymbolProfile {
  symbol: string;
  kind: AssetKind;
  startPrice: number;
  /** Tick size is 10^-priceDecimals. */
  priceDecimals: number;
  /** Smallest tradable amount is 10^-sizeDecimals (0 for equities: whole shares). */
  sizeDecimals: number;
  /** Standard deviation of the log price per √second. */
  volatility: number;
}

// Volatilities are roughly 3x real intraday levels so that one-minute bars move visibly and alerts fire in a demo.
const PROFILES: readonly SymbolProfile[] = [
  { symbol: 'AAPL', kind: 'equity', startPrice: 230, priceDecimals: 2, sizeDecimals: 0, volatility: 0.00025 },
  { symbol: 'MSFT', kind: 'equity', startPrice: 420, priceDecimals: 2, sizeDecimals: 0, volatility: 0.00022 },
  { symbol: 'NVDA', kind: 'equity', startPrice: 140, priceDecimals: 2, sizeDecimals: 0, volatility: 0.00045 },
  { symbol: 'AMZN', kind: 'equity', startPrice: 200, priceDecimals: 2, sizeDecimals: 0, volatility: 0.0003 },
  { symbol: 'GOOGL', kind: 'equity', startPrice: 170, priceDecimals: 2, sizeDecimals: 0, volatility: 0.0003 },
  { symbol: 'META', kind: 'equity', startPrice: 580, priceDecimals: 2, sizeDecimals: 0, volatility: 0.00035 },
  { symbol: 'TSLA', kind: 'equity', startPrice: 350, priceDecimals: 2, sizeDecimals: 0, volatility: 0.0006 },
  { symbol: 'JPM', kind: 'equity', startPrice: 240, priceDecimals: 2, sizeDecimals: 0, volatility: 0.00022 },
  // Crypto tick and lot sizes follow Binance spot filters for these pairs.
  {
    symbol: 'BTCUSDT',
    kind: 'crypto',
    startPrice: 95_000,
    priceDecimals: 2,
    sizeDecimals: 5,
    volatility: 0.0004,
  },
  {
    symbol: 'ETHUSDT',
    kind: 'crypto',
    startPrice: 3_300,
    priceDecimals: 2,
    sizeDecimals: 4,
    volatility: 0.0005,
  },
  {
    symbol: 'SOLUSDT',
    kind: 'crypto',
    startPrice: 190,
    priceDecimals: 2,
    sizeDecimals: 3,
    volatility: 0.0007,
  },
  {
    symbol: 'BNBUSDT',
    kind: 'crypto',
    startPrice: 650,
    priceDecimals: 2,
    sizeDecimals: 3,
    volatility: 0.0005,
  },
];

/** The default symbol set, most popular first (the synthetic source draws them with Zipf-like weights in this order). */
export const DEFAULT_SYMBOLS: readonly string[] = PROFILES.map((p) => p.symbol);

const CRYPTO_QUOTE = /^[A-Z0-9]{2,}(USDT|USDC|BUSD|FDUSD|USD|BTC|ETH|EUR)$/;

/** A known profile, or a plausible one derived deterministically from the symbol name. */
export function profileFor(symbol: string): SymbolProfile {
  const known = PROFILES.find((p) => p.symbol === symbol);
  if (known) return known;
  const h = hashString(symbol);
  if (CRYPTO_QUOTE.test(symbol)) {
    const startPrice = 10 ** ((h % 600) / 100 - 1); // 0.1 .. 100_000, log-uniform
    const magnitude = Math.floor(Math.log10(startPrice));
    return {
      symbol,
      kind: 'crypto',
      startPrice,
      priceDecimals: Math.min(8, Math.max(2, 4 - magnitude)),
      sizeDecimals: Math.min(8, Math.max(0, magnitude + 2)),
      volatility: 0.0006,
    };
  }
  const startPrice = 10 + (h % 49_000) / 100; // 10 .. 500
  return { symbol, kind: 'equity', startPrice, priceDecimals: 2, sizeDecimals: 0, volatility: 0.0003 };
}

export interface SyntheticOptions {
  /** Same seed and same sequence of `next(nowUs)` times give the same trades. Default 1. */
  seed?: number;
  /** Symbols in popularity order. Default DEFAULT_SYMBOLS. */
  symbols?: readonly string[];
  /** Exponent s of the popularity weights 1/rank^s. Default 1. */
  zipfExponent?: number;
  /** Multiplies every profile's volatility. Default 1. */
  volatilityScale?: number;
  /** Mean number of price jumps (1.5-4 %, random sign) per symbol per hour, to give alerts something to see. Default 4. */
  jumpsPerHour?: number;
  /**
   * Trade ids of each symbol are base+1, base+2, ... Defaults to the time of the first `next()` call, so a
   * restarted producer does not reuse ids already stored (trades are stored once per source+symbol+trade_id).
   */
  tradeIdBase?: number;
}

interface SymbolState {
  profile: SymbolProfile;
  logPrice: number;
  lastUs: number;
  seq: number;
  priceScale: number;
  sizeScale: number;
}

const US_PER_SECOND = 1_000_000;

/** Deterministic synthetic trade generator: a geometric random walk per symbol, sampled by Zipf popularity. */
export class SyntheticSource {
  readonly symbols: readonly string[];
  readonly #rng: Rng;
  readonly #gauss: () => number;
  readonly #states: SymbolState[];
  readonly #cumulative: Float64Array;
  readonly #volatilityScale: number;
  readonly #jumpRatePerUs: number;
  #tradeIdBase: number | undefined;

  constructor(options: SyntheticOptions = {}) {
    const symbols = options.symbols ?? DEFAULT_SYMBOLS;
    if (symbols.length === 0) throw new RangeError('synthetic source needs at least one symbol');
    for (const s of symbols) {
      if (!SYMBOL_PATTERN.test(s))
        throw new RangeError(`invalid symbol ${JSON.stringify(s)}: must match ${SYMBOL_PATTERN}`);
    }
    if (new Set(symbols).size !== symbols.length) throw new RangeError('synthetic symbols must be distinct');
    this.symbols = [...symbols];
    this.#rng = createRng(options.seed ?? 1);
    this.#gauss = createGaussian(this.#rng);
    this.#volatilityScale = options.volatilityScale ?? 1;
    this.#jumpRatePerUs = (options.jumpsPerHour ?? 4) / (3600 * US_PER_SECOND);
    this.#tradeIdBase = options.tradeIdBase;
    this.#states = symbols.map((symbol) => {
      const profile = profileFor(symbol);
      return {
        profile,
        logPrice: Math.log(profile.startPrice),
        lastUs: -1,
        seq: 0,
        priceScale: 10 ** profile.priceDecimals,
        sizeScale: 10 ** profile.sizeDecimals,
      };
    });
    const s = options.zipfExponent ?? 1;
    this.#cumulative = new Float64Array(symbols.length);
    let total = 0;
    for (let i = 0; i < symbols.length; i++) {
      total += 1 / (i + 1) ** s;
      this.#cumulative[i] = total;
    }
    for (let i = 0; i < symbols.length; i++) this.#cumulative[i] = (this.#cumulative[i] as number) / total;
  }

  /** The next trade, stamped with event time `nowUs` (µs since the epoch); ingest time is set equal to it. */
  next(nowUs: number): Trade {
    const eventTimeUs = Math.trunc(nowUs);
    this.#tradeIdBase ??= eventTimeUs;
    const state = this.#states[this.#pickIndex()] as SymbolState;
    this.#step(state, eventTimeUs);
    const { profile } = state;
    const scale = state.priceScale;
    // Dividing an integer by a power of ten yields the double nearest the decimal tick price (no 0.1+0.2 residue).
    const price = Math.max(1, Math.round(Math.exp(state.logPrice) * scale)) / scale;
    state.seq += 1;
    return {
      symbol: profile.symbol,
      price,
      size: profile.kind === 'equity' ? this.#equitySize() : this.#cryptoSize(price, state.sizeScale),
      eventTimeUs,
      ingestTimeUs: eventTimeUs,
      source: 'synthetic',
      tradeId: String(this.#tradeIdBase + state.seq),
    };
  }

  /** Binary search of the cumulative weights: symbol lists from --symbols can be long. */
  #pickIndex(): number {
    const u = this.#rng();
    const cumulative = this.#cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < (cumulative[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Advances the log price by Brownian motion over the time since this symbol's previous trade, plus rare jumps. */
  #step(state: SymbolState, nowUs: number): void {
    if (state.lastUs < 0) {
      state.lastUs = nowUs;
      return;
    }
    const dtUs = Math.max(0, nowUs - state.lastUs);
    state.lastUs = Math.max(state.lastUs, nowUs);
    if (dtUs === 0) return;
    const sigma = state.profile.volatility * this.#volatilityScale;
    // GBM with the Itô correction: a martingale, so the expected price stays put; it can never reach zero.
    state.logPrice +=
      sigma * Math.sqrt(dtUs / US_PER_SECOND) * this.#gauss() - 0.5 * sigma * sigma * (dtUs / US_PER_SECOND);
    if (this.#rng() < 1 - Math.exp(-this.#jumpRatePerUs * dtUs)) {
      const size = 0.015 + 0.025 * this.#rng();
      state.logPrice += Math.log(this.#rng() < 0.5 ? 1 - size : 1 + size);
    }
  }

  /** About half of US equity trades are odd lots (mostly small); round lots follow a geometric law, with rare blocks. */
  #equitySize(): number {
    const u = this.#rng();
    if (u < 0.45) return 1 + Math.floor(99 * this.#rng() ** 2);
    if (u < 0.995) return 100 * (1 + Math.floor(Math.log(1 - this.#rng()) / Math.log(0.45)));
    return 100 * (10 + Math.floor(90 * this.#rng()));
  }

  /** Crypto trade notionals are heavy-tailed: log-normal around $300, rounded to the lot step. */
  #cryptoSize(price: number, sizeScale: number): number {
    const notional = 300 * Math.exp(1.6 * this.#gauss());
    return Math.max(1, Math.round((notional / price) * sizeScale)) / sizeScale;
  }
}
