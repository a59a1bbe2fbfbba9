/** Default key prefix; the trailing colon is part of it so a custom prefix fully controls the namespace. */
export const DEFAULT_REDIS_PREFIX = 'tickflow:';

/** Hash holding the newest trade (by event time) of a symbol. */
export function latestKey(prefix: string, symbol: string): string {
  return `${prefix}latest:${symbol}`;
}

/** Pub/sub channel carrying each price alert as JSON (see alertToJson). */
export function alertsChannel(prefix: string): string {
  return `${prefix}alerts`;
}

/** Field names of the `latest:<SYMBOL>` hash, named after the Trade fields of the contract. */
export const LATEST_FIELDS = {
  price: 'price',
  size: 'size',
  eventTimeUs: 'event_time_us',
  source: 'source',
  tradeId: 'trade_id',
} as const;

export type LatestField = (typeof LATEST_FIELDS)[keyof typeof LATEST_FIELDS];
