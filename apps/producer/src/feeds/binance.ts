import { parseBinanceLine } from '../sources/replay.ts';
import { excerpt, type FeedProtocol, type FrameOutcome, outcomeOf } from './protocol.ts';

export const DEFAULT_BINANCE_WS_URL = 'wss://stream.binance.com:9443';

/**
 * Binance spot WebSocket market-stream limits (developers.binance.com, "WebSocket Streams"): a connection is cut
 * after 24 h; at most 1024 streams per connection; 5 incoming messages per second per connection (pings, pongs
 * and control messages such as SUBSCRIBE); 300 connection attempts per 5 minutes per IP.
 */
export const BINANCE_LIMITS = {
  maxConnectionAgeMs: 24 * 3_600_000,
  streamsPerConnection: 1024,
  controlMessagesPerSecond: 5,
  connectionsPerWindow: 300,
  connectionWindowMs: 5 * 60_000,
} as const;

/** Rotate an hour before Binance's 24 h cut. */
export const BINANCE_DEFAULT_MAX_CONNECTION_AGE_MS = 23 * 3_600_000;

/** Binance spot symbols: upper-case letters and digits (BTCUSDT); stream names are their lower-case form. */
export const BINANCE_SYMBOL = /^[A-Z0-9]{2,30}$/;

export interface BinanceFeedOptions {
  symbols: readonly string[];
  /** Scheme, host and port (and optional path prefix) of the stream endpoint. Default DEFAULT_BINANCE_WS_URL. */
  baseUrl?: string;
  /** Streams per connection; more symbols are spread over several connections. Default 1024. */
  maxStreamsPerConnection?: number;
}

/** `${base}/stream?streams=btcusdt@trade/ethusdt@trade`: the combined-stream URL (every frame says its stream). */
export function binanceStreamUrl(baseUrl: string, symbols: readonly string[]): string {
  const base = new URL(baseUrl);
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') {
    throw new RangeError(`Binance WebSocket URL must start with ws:// or wss://, got ${base.protocol}//`);
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  const streams = symbols.map((s) => `${s.toLowerCase()}@trade`).join('/');
  return `${base.protocol}//${base.host}${prefix}/stream?streams=${streams}`;
}

/**
 * One protocol per connection: the symbols are split into groups of at most `maxStreamsPerConnection` streams.
 * Subscriptions travel in the URL, so a reconnect resubscribes by construction and no control message is sent
 * (nothing counts against the 5 messages/s limit except the pong replies `ws` sends to Binance's pings and a
 * heartbeat ping after a silence).
 */
export function binanceProtocols(options: BinanceFeedOptions): FeedProtocol[] {
  const { symbols } = options;
  const baseUrl = options.baseUrl ?? DEFAULT_BINANCE_WS_URL;
  const perConnection = options.maxStreamsPerConnection ?? BINANCE_LIMITS.streamsPerConnection;
  if (symbols.length === 0) throw new RangeError('the Binance feed needs at least one symbol');
  const bad = symbols.filter((s) => !BINANCE_SYMBOL.test(s));
  if (bad.length > 0) {
    throw new RangeError(
      `not Binance spot symbols (upper-case letters and digits, e.g. BTCUSDT): ${bad.join(', ')}`,
    );
  }
  if (!(perConnection >= 1 && perConnection <= BINANCE_LIMITS.streamsPerConnection)) {
    throw new RangeError(`maxStreamsPerConnection must be 1..${BINANCE_LIMITS.streamsPerConnection}`);
  }
  const unique = [...new Set(symbols)];
  const groups: string[][] = [];
  for (let i = 0; i < unique.length; i += perConnection) groups.push(unique.slice(i, i + perConnection));
  return groups.map((group, i) => {
    const url = binanceStreamUrl(baseUrl, group);
    const label = groups.length === 1 ? 'binance' : `binance[${i + 1}/${groups.length}]`;
    return binanceProtocol(url, label);
  });
}

function binanceProtocol(url: string, label: string): FeedProtocol {
  return {
    source: 'binance',
    label,
    secrets: [],
    controlLimit: { limit: BINANCE_LIMITS.controlMessagesPerSecond, windowMs: 1000 },
    url: () => url,
    displayUrl: () => (url.length > 200 ? `${url.slice(0, 200)}…` : url),
    subscribeMessages: () => [],
    parseFrame: parseBinanceFrame,
    upgradeRejected(status, everOpened) {
      if (status === 451) {
        return (
          'Binance refused the connection with HTTP 451 (unavailable from this location); ' +
          'point BINANCE_WS_URL at an endpoint you may use (e.g. wss://stream.binance.us:9443)'
        );
      }
      // Rate limiting (429, 418 = IP banned for a while), timeouts and server errors are retried with backoff
      // (and any Retry-After); other 4xx at start-up mean the URL or symbols are wrong.
      if (status === 408 || status === 418 || status === 429 || status >= 500 || everOpened) return null;
      if (status >= 400) {
        return `Binance refused the WebSocket upgrade with HTTP ${status}: check BINANCE_WS_URL and --symbols (${label} ${url})`;
      }
      return null;
    },
    closed: () => null,
  };
}

/** Trade events via the replay parser (identical mapping); `{"error":...}` replies are exchange errors. */
export function parseBinanceFrame(text: string): FrameOutcome {
  const result = parseBinanceLine(text);
  if (!result.ok && text.includes('"error"')) {
    try {
      const o = JSON.parse(text) as { error?: { msg?: unknown; code?: unknown } };
      if (o && typeof o.error === 'object' && o.error !== null) {
        return {
          kind: 'error',
          message: `Binance error ${String(o.error.code)}: ${String(o.error.msg)}`,
          fatal: false,
        };
      }
    } catch {
      // fall through: malformed
    }
  }
  if (!result.ok) return { kind: 'malformed', error: `${result.error} in ${excerpt(text)}` };
  return outcomeOf(result);
}
