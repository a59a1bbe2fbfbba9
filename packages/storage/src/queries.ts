// Read queries for tests and the dashboard. Parameterised SQL only; times in and out are µs since the epoch.
import type { Queryable } from './queryable.ts';
import { barsRangeSql, type SchemaMode } from './schema.ts';
import { int8ToNumber, microsToTimestamptzSql, timestamptzToMicrosSql } from './time.ts';
import type { AlertDirection, BarRow, PriceAlert } from './types.ts';

export interface BarsQuery {
  /**
   * The schema path of `db` (migrate()'s result, or schemaMode(db)): plain PostgreSQL aggregates the range
   * of trades directly, so it can use the (symbol, time) index; TimescaleDB reads the continuous aggregate.
   */
  mode: SchemaMode;
  symbol?: string;
  /** Inclusive lower bound on the bucket start, µs. */
  from?: number;
  /** Exclusive upper bound on the bucket start, µs. */
  to?: number;
  /** The most recent `limit` bars of the range are returned (required: keeps dashboard queries bounded). */
  limit: number;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

function checkMicros(value: number | undefined, field: string): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw new RangeError(`${field} must be a safe integer of µs since the epoch, got ${value}`);
  }
}

/** Each optional filter is NULL-able (see BarsRange), so one statement text per path serves every combination. */
const barsSql = (mode: SchemaMode) => `SELECT * FROM (
  SELECT ${timestamptzToMicrosSql('bucket')} AS bucket_us, symbol, open, high, low, close, volume, vwap,
         trade_count
    FROM ${barsRangeSql(mode, { symbol: '$1::text', from: '$2::int8', to: '$3::int8' })}
   ORDER BY bucket DESC, symbol
   LIMIT $4
) latest ORDER BY bucket_us, symbol`;

const BARS_SQL: Record<SchemaMode, string> = {
  postgres: barsSql('postgres'),
  timescale: barsSql('timescale'),
};

/** One-minute bars, oldest first: the latest `limit` of the range. */
export async function barsOneMinute(db: Queryable, q: BarsQuery): Promise<BarRow[]> {
  checkLimit(q.limit);
  checkMicros(q.from, 'from');
  checkMicros(q.to, 'to');
  if (q.mode !== 'postgres' && q.mode !== 'timescale') {
    throw new TypeError(`mode must be 'postgres' or 'timescale', got ${String(q.mode)}`);
  }
  const { rows } = await db.query<{
    bucket_us: string;
    symbol: string;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    vwap: number;
    trade_count: string;
  }>(BARS_SQL[q.mode], [q.symbol ?? null, q.from ?? null, q.to ?? null, q.limit]);
  return rows.map((r) => ({
    bucketUs: int8ToNumber(r.bucket_us, 'bucket'),
    symbol: r.symbol,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    vwap: r.vwap,
    tradeCount: int8ToNumber(r.trade_count, 'trade_count'),
  }));
}

export interface TradeCountQuery {
  symbol?: string;
  source?: string;
  /** Inclusive lower bound on event time, µs. */
  from?: number;
  /** Exclusive upper bound on event time, µs. */
  to?: number;
}

const COUNT_TRADES_SQL = `SELECT count(*) AS n FROM trades
 WHERE ($1::text IS NULL OR symbol = $1)
   AND ($2::text IS NULL OR source = $2)
   AND ($3::int8 IS NULL OR time >= ${microsToTimestamptzSql('$3::int8')})
   AND ($4::int8 IS NULL OR time < ${microsToTimestamptzSql('$4::int8')})`;

export async function countTrades(db: Queryable, q: TradeCountQuery = {}): Promise<number> {
  checkMicros(q.from, 'from');
  checkMicros(q.to, 'to');
  const { rows } = await db.query<{ n: string }>(COUNT_TRADES_SQL, [
    q.symbol ?? null,
    q.source ?? null,
    q.from ?? null,
    q.to ?? null,
  ]);
  return int8ToNumber(rows[0]?.n ?? 0, 'count');
}

export interface AlertsQuery {
  symbol?: string;
  /** Only alerts whose window ended at or after this time, µs. */
  since?: number;
  limit: number;
}

const LATEST_ALERTS_SQL = `SELECT ${timestamptzToMicrosSql('window_start')} AS window_start_us,
       ${timestamptzToMicrosSql('window_end')} AS window_end_us,
       symbol, open, close, change_pct, threshold_pct, direction
  FROM price_alerts
 WHERE ($1::text IS NULL OR symbol = $1)
   AND ($2::int8 IS NULL OR window_end >= ${microsToTimestamptzSql('$2::int8')})
 ORDER BY window_end DESC, symbol, window_start DESC
 LIMIT $3`;

/** Newest alerts first. */
export async function latestAlerts(db: Queryable, q: AlertsQuery): Promise<PriceAlert[]> {
  checkLimit(q.limit);
  checkMicros(q.since, 'since');
  const { rows } = await db.query<{
    window_start_us: string;
    window_end_us: string;
    symbol: string;
    open: number;
    close: number;
    change_pct: number;
    threshold_pct: number;
    direction: AlertDirection;
  }>(LATEST_ALERTS_SQL, [q.symbol ?? null, q.since ?? null, q.limit]);
  return rows.map((r) => ({
    symbol: r.symbol,
    windowStartUs: int8ToNumber(r.window_start_us, 'window_start'),
    windowEndUs: int8ToNumber(r.window_end_us, 'window_end'),
    open: r.open,
    close: r.close,
    changePct: r.change_pct,
    thresholdPct: r.threshold_pct,
    direction: r.direction,
  }));
}

/**
 * Materializes bars_1m for [from, to) now instead of waiting for the refresh policy (TimescaleDB only;
 * a no-op on the plain-PostgreSQL view). Needed after a backfill or replay into already-materialized time:
 * real-time aggregation only covers time after the materialization watermark. Cannot run in a transaction.
 */
export async function refreshBars(db: Queryable, range: { from?: number; to?: number } = {}): Promise<void> {
  checkMicros(range.from, 'from');
  checkMicros(range.to, 'to');
  // Two steps: timescaledb_information does not exist (and cannot even be named) without the extension.
  const ext = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  if (!ext.rowCount) return;
  const { rows } = await db.query<{ cagg: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
                     WHERE view_schema = current_schema() AND view_name = 'bars_1m') AS cagg`,
  );
  if (!rows[0]?.cagg) return;
  await db.query(
    `CALL refresh_continuous_aggregate('bars_1m', ${microsToTimestamptzSql('$1::int8')}, ${microsToTimestamptzSql('$2::int8')})`,
    [range.from ?? null, range.to ?? null],
  );
}
