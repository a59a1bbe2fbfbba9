export type { AddResult, AggregatorCoreConfig, CoreOutput, CoreStats, IntervalConfig } from './aggregator.ts';
export { DEFAULT_CORE_CONFIG, MarketAggregator, validateCoreConfig, windowStartUs } from './aggregator.ts';
export type { TimedTrade } from './latest.ts';
export { coalesceLatest, isNewer } from './latest.ts';
export type { AlertDirection, Bar, BarInterval, PriceAlert, Trade } from './types.ts';
