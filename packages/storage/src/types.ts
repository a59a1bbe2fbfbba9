// Structural copies of the contract types from @tickflow/contracts. Storage only needs their shape, and
// declaring them here keeps this package free of a (protobuf-carrying) runtime dependency; TypeScript's
// structural typing makes contracts' Trade and PriceAlert assignable to these and back.

/** A trade; times are µs since the epoch as plain numbers (safe integers). */
export interface Trade {
  symbol: string;
  price: number;
  size: number;
  eventTimeUs: number;
  ingestTimeUs: number;
  source: string;
  tradeId: string;
}

export type AlertDirection = 'UP' | 'DOWN';

export interface PriceAlert {
  symbol: string;
  windowStartUs: number;
  windowEndUs: number;
  open: number;
  close: number;
  changePct: number;
  thresholdPct: number;
  direction: AlertDirection;
}

/** A row of `bars_1m`, times in µs since the epoch. */
export interface BarRow {
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
