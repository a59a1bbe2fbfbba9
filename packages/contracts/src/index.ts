export {
  ALERT_DIRECTIONS,
  type AlertDirection,
  alertFromJson,
  alertToJson,
  alertToJsonObject,
  decodeAlert,
  encodeAlert,
  type PriceAlert,
  type PriceAlertJson,
} from './alert.ts';
export { BAR_INTERVALS, type Bar, type BarInterval, decodeBar, encodeBar } from './bar.ts';
export { MalformedMessageError } from './codec.ts';
export {
  alertsChannel,
  DEFAULT_REDIS_PREFIX,
  LATEST_FIELDS,
  type LatestField,
  latestKey,
} from './redis-keys.ts';
export { AGGREGATOR_GROUP, DEFAULT_TOPICS, DLQ_HEADERS, type TopicRole, TRACE_HEADERS } from './topics.ts';
export {
  DEFAULT_MAX_TRADE_BYTES,
  type DecodeTradeResult,
  DLQ_REASONS,
  type DlqReason,
  decodeTrade,
  encodeTrade,
  MAX_QUANTITY,
  MIN_QUANTITY,
  SOURCE_PATTERN,
  SYMBOL_PATTERN,
  TRADE_SOURCES,
  type Trade,
  type TradeRejection,
  type TradeSource,
  validateTrade,
} from './trade.ts';
