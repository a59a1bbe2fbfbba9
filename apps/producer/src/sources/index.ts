export { Pacer, type PacerOptions, type RateReport, rateReport } from './pacer.ts';
export { createGaussian, createRng, hashString, type Rng } from './random.ts';
export {
  createReplayStats,
  finnhubTradeId,
  parseBinanceLine,
  parseFinnhubLine,
  parseIsoMicros,
  parseJsonlLine,
  REPLAY_FORMATS,
  REPLAY_PARSERS,
  type ReadReplayOptions,
  type RejectedTrade,
  type ReplayError,
  type ReplayErrorReason,
  type ReplayFormat,
  type ReplayLineParser,
  type ReplayLineResult,
  type ReplayParsed,
  type ReplayStats,
  readReplayFile,
} from './replay.ts';
export {
  type AssetKind,
  DEFAULT_SYMBOLS,
  profileFor,
  type SymbolProfile,
  type SyntheticOptions,
  SyntheticSource,
} from './synthetic.ts';
