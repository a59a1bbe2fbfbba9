// The contract's types (type-only imports: no runtime dependency on the Protobuf code).
export type { AlertDirection, PriceAlert, Trade } from '@tickflow/contracts';

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
