export { type BackoffOptions, backoffDelay } from './backoff.ts';
export {
  BINANCE_DEFAULT_MAX_CONNECTION_AGE_MS,
  BINANCE_LIMITS,
  BINANCE_SYMBOL,
  type BinanceFeedOptions,
  binanceProtocols,
  binanceStreamUrl,
  DEFAULT_BINANCE_WS_URL,
  parseBinanceFrame,
} from './binance.ts';
export {
  defaultConnectionOptions,
  FeedConnection,
  type FeedConnectionHandlers,
  type FeedConnectionOptions,
  FeedFatalError,
  type RetryInfo,
  retryAfterMs,
} from './connection.ts';
export {
  binanceTradeFrame,
  type ExchangeTrade,
  FakeClient,
  FakeExchange,
  type FakeExchangeOptions,
  type FakeProtocol,
  FINNHUB_PING,
  finnhubTradeFrame,
  syntheticTape,
  type TapeOptions,
} from './fake-exchange.ts';
export {
  DEFAULT_FINNHUB_WS_URL,
  FINNHUB_LIMITS,
  type FinnhubFeedOptions,
  finnhubProtocol,
  finnhubUrl,
  parseFinnhubFrame,
} from './finnhub.ts';
export { openLiveFeed } from './from-config.ts';
export { WindowLimiter } from './limiter.ts';
export { LiveFeed, type LiveFeedOptions } from './live-feed.ts';
export { excerpt, type FeedProtocol, type FrameOutcome, outcomeOf } from './protocol.ts';
export { RecentIds, tradeKey } from './recent-ids.ts';
export { FrameRecorder, type FrameRecorderOptions } from './recorder.ts';
export { redact } from './redact.ts';
export { SkewEstimator } from './skew.ts';
export {
  type ConnectionState,
  createFeedStats,
  type FeedStats,
  type FeedStatsSnapshot,
  formatFeedStats,
  renderFeedMetrics,
  snapshotFeedStats,
} from './stats.ts';
