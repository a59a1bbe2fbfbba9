// The JSON shapes of the dashboard's API and stream, shared by the server and the page (web/). Pure types:
// the page's own tsconfig includes this file, so it must not import anything Node-specific.
// Field names follow the data contracts (snake_case, times in µs since the epoch).

/** The newest trade of a symbol, as kept in Redis `<prefix>latest:<SYMBOL>`. */
export interface LatestPrice {
  symbol: string;
  price: number;
  size: number;
  event_time_us: number;
  source: string;
  trade_id: string;
}

/** A price alert, with the field names of the `<prefix>alerts` channel's JSON. */
export interface AlertJson {
  symbol: string;
  window_start_us: number;
  window_end_us: number;
  open: number;
  close: number;
  change_pct: number;
  threshold_pct: number;
  direction: 'UP' | 'DOWN';
}

export const BAR_INTERVALS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type BarIntervalName = (typeof BAR_INTERVALS)[number];

export interface BarJson {
  /** Bucket start, µs since the epoch (UTC-aligned). */
  start_us: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  trade_count: number;
}

export interface BarsResponse {
  symbol: string;
  interval: BarIntervalName;
  bars: BarJson[];
}

export interface BoardRow {
  symbol: string;
  latest: LatestPrice;
  /** Open of the first one-minute bar of the window, or null when the database has none yet. */
  ref_price: number | null;
  /** (latest / ref_price - 1) * 100, or null without a reference. */
  change_pct: number | null;
  /** One-minute closes of the window, oldest first. */
  spark: Array<{ start_us: number; close: number }>;
}

export interface BoardResponse {
  minutes: number;
  symbols: BoardRow[];
}

/** What the dashboard read from one Prometheus /metrics endpoint of the pipeline. */
export interface PipelineTarget {
  url: string;
  /** The app named by the metric prefix (tickflow_<app>_...), or null when unknown. */
  app: string | null;
  up: boolean;
  error: string | null;
  scraped_at_us: number | null;
  /** Trades per second, from the rate of the app's main counter between two scrapes. */
  throughput_per_s: number | null;
  /** The counter used for throughput_per_s. */
  throughput_metric: string | null;
  p99_ms: number | null;
  lag: number | null;
}

export interface PipelineHealth {
  targets: PipelineTarget[];
  /** Sum over aggregator targets (or all targets when none is an aggregator). */
  throughput_per_s: number | null;
  /** Worst p99 over the targets. */
  p99_ms: number | null;
  /** Sum over the targets. */
  lag: number | null;
  /** Newest event time over all symbols in Redis, µs; null when there is none. */
  newest_event_us: number | null;
}

/** Events of GET /api/v1/stream (SSE `event:` names) and of the WebSocket (`type`). */
export interface StreamEvents {
  /** Latest prices that changed since the previous message (the first message is a full snapshot). */
  prices: { prices: LatestPrice[] };
  alert: AlertJson;
  health: PipelineHealth;
}

export type StreamEventName = keyof StreamEvents;

export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
  /** The query or path parameter at fault, when there is one. */
  parameter?: string;
}
