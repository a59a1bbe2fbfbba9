// The DDL of every migration, per path: 'timescale' (TimescaleDB extension present) or 'postgres' (plain).
// Option values (chunk interval) travel as bind parameters, never spliced into SQL text.
import { microsToTimestamptzSql } from './time.ts';

export type SchemaMode = 'timescale' | 'postgres';

export interface Statement {
  text: string;
  values?: unknown[];
}

export interface SchemaOptions {
  /** TimescaleDB chunk interval of `trades` (default '1 day'). */
  chunkInterval: string;
}

/**
 * Order of events within one event time, used for open (first) and close (last). The contract breaks ties
 * by arrival: ingest_time is when the producer accepted the trade, stored_at the commit batch, and trade_id
 * (byte order, COLLATE "C", independent of the server's locale) settles the rest deterministically.
 */
export const TRADE_ORDER = ['time', 'ingest_time', 'stored_at', 'trade_id COLLATE "C"'] as const;

/** UTC minute of a timestamptz expression: its start, the same bucket as TimescaleDB's time_bucket. */
const minuteBucketPg = (expr: string) =>
  `date_bin(interval '1 minute', ${expr}, timestamptz '1970-01-01 00:00:00+00')`;

/** UTC minute of `time` on plain PostgreSQL, the same bucket as TimescaleDB's time_bucket('1 minute', time). */
export const MINUTE_BUCKET_PG = minuteBucketPg('time');

export function extensionDdl(mode: SchemaMode): Statement[] {
  return mode === 'timescale' ? [{ text: 'CREATE EXTENSION IF NOT EXISTS timescaledb' }] : [];
}

export function tradesDdl(mode: SchemaMode, options: SchemaOptions): Statement[] {
  // Byte-order ("C") collation on the identity columns: the unique and per-symbol indexes compare
  // with memcmp instead of locale rules (measured ~17 % faster inserts), and identities are codes.
  const table = `CREATE TABLE trades (
  time        timestamptz      NOT NULL,
  symbol      text COLLATE "C" NOT NULL,
  price       double precision NOT NULL,
  size        double precision NOT NULL,
  source      text COLLATE "C" NOT NULL,
  trade_id    text COLLATE "C" NOT NULL,
  ingest_time timestamptz      NOT NULL,
  stored_at   timestamptz      NOT NULL DEFAULT now()
)`;
  if (mode === 'postgres') {
    return [
      { text: table },
      // Exactly-once: INSERT ... ON CONFLICT DO NOTHING against this index makes redeliveries harmless.
      { text: 'CREATE UNIQUE INDEX trades_identity_key ON trades (source, symbol, trade_id)' },
      { text: 'CREATE INDEX trades_symbol_time_idx ON trades (symbol, time DESC)' },
      // Served filters on bars_1m.bucket, which reach trades only as filters on this expression. Dropped
      // by migration 7 (bucketIndexDdl): range queries now filter trades.time (barsRangeSql).
      { text: `CREATE INDEX trades_symbol_bucket_idx ON trades (symbol, ${MINUTE_BUCKET_PG})` },
    ];
  }
  return [
    { text: table },
    {
      // No default (time DESC) index: per-symbol range queries use the one below, retention drops chunks.
      text: `SELECT create_hypertable('trades', by_range('time', $1::interval), create_default_indexes => false)`,
      values: [options.chunkInterval],
    },
    {
      // A unique index on a hypertable must contain the partitioning column, so `time` joins the identity.
      // That still stores each trade once: a redelivered, replayed or re-produced trade carries the same
      // event time (it is the exchange's timestamp, part of the trade), so it collides with its first copy.
      // Only two different event times under one (source, symbol, trade_id) would both be kept, which
      // would be a feed bug rather than a redelivery.
      text: 'CREATE UNIQUE INDEX trades_identity_key ON trades (source, symbol, trade_id, time)',
    },
    { text: 'CREATE INDEX trades_symbol_time_idx ON trades (symbol, time DESC)' },
  ];
}

const epochMicros = (col: string) =>
  `(extract(epoch from (${col} - timestamptz '1970-01-01 00:00:00+00')) * 1000000)::int8`;
// XOR with the sign bit maps int8 order onto unsigned order, so fixed-width hex sorts like the numbers.
const sortableHex = (col: string) =>
  `lpad(to_hex(${epochMicros(col)} # (-9223372036854775808)::int8), 16, '0')`;

/**
 * TRADE_ORDER as ONE text value whose byte order (COLLATE "C") is the tuple order: the "time" argument of
 * TimescaleDB's first()/last() in the continuous aggregate. A row value cannot be used there: an anonymous
 * ROW(...) breaks chunk-wise partial aggregation (its state goes through record_recv: "input of anonymous
 * composite types is not implemented") and a named composite type has no `<` operator of its own, which
 * first() looks up by exact type ("could not find a < operator"). Only immutable functions: a cagg
 * accepts nothing else, and the µs come from exact numeric arithmetic.
 */
export const ARRIVAL_KEY_SQL = `(${['time', 'ingest_time', 'stored_at'].map(sortableHex).join(' || ')} || trade_id) COLLATE "C"`;

const BAR_MEASURES = `max(price) AS high,
  min(price) AS low`;
const BAR_TOTALS = `sum(size) AS volume,
  sum(price * size) / sum(size) AS vwap,
  count(*) AS trade_count`;

/**
 * The identity of a trade as ONE text value: source and symbol cannot contain the separator (their
 * contract patterns exclude control characters) and trade_id comes last, so distinct identities never
 * collide. A unique index on it compares one memcmp'd value instead of three columns (each extracted
 * from the index tuple past a variable-length column): measured 15.1 -> 12.6 µs of server CPU per
 * inserted row with the ON CONFLICT ... RETURNING insert of the time (scripts/bench-trade-indexes.ts,
 * which now measures the plain first-attempt INSERT: 9.0 -> 7.4 µs/row without the bucket index).
 */
export const IDENTITY_KEY_SQL = `(source || chr(31) || symbol || chr(31) || trade_id)`;

/** Migration 6: plain PostgreSQL swaps the three-column identity index for the single-value one. */
export function identityKeyDdl(mode: SchemaMode): Statement[] {
  if (mode !== 'postgres') return [];
  return [
    { text: `CREATE UNIQUE INDEX trades_identity_key_v6 ON trades (${IDENTITY_KEY_SQL})` },
    { text: 'DROP INDEX trades_identity_key' },
    { text: 'ALTER INDEX trades_identity_key_v6 RENAME TO trades_identity_key' },
  ];
}

/**
 * Migration 7: plain PostgreSQL drops the (symbol, minute bucket) index of migration 2. Bar range queries
 * filter trades.time through the (symbol, time DESC) index instead (barsRangeSql), and the extra index
 * cost insert throughput: 14.7 -> 12.4 µs of server CPU per inserted row without it, with the RETURNING
 * insert of the time (scripts/bench-trade-indexes.ts; noisy on a shared 2-core machine, two later runs
 * gave 14.4 -> 12.3 and 14.7 -> 14.2). IF EXISTS: an already missing index is the state this produces.
 */
export function bucketIndexDdl(mode: SchemaMode): Statement[] {
  if (mode !== 'postgres') return [];
  return [{ text: 'DROP INDEX IF EXISTS trades_symbol_bucket_idx' }];
}

export function barsDdl(mode: SchemaMode): Statement[] {
  if (mode === 'timescale') {
    return [
      {
        // Open/close by the arrival key above: ties on event time are broken like the plain view does.
        // WITH NO DATA: materializing is not allowed inside the migration's transaction; real-time
        // aggregation answers from trades until the refresh policy has run.
        text: `CREATE MATERIALIZED VIEW bars_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', time) AS bucket,
  symbol,
  first(price, ${ARRIVAL_KEY_SQL}) AS open,
  ${BAR_MEASURES},
  last(price, ${ARRIVAL_KEY_SQL}) AS close,
  ${BAR_TOTALS}
FROM trades
GROUP BY bucket, symbol
WITH NO DATA`,
      },
    ];
  }
  return [
    {
      // date_bin on the epoch is time_bucket's UTC minute; date_trunc('minute', ...) would follow the
      // session TimeZone (only STABLE, and off for zones with sub-minute offsets). Two ordered array_aggs:
      // on 1M rows as fast as a first_value/last_value window formulation for one symbol-hour and 10-20%
      // faster over everything, and simpler (see README.md).
      text: `CREATE VIEW bars_1m AS
${plainBarsSql(null)}`,
    },
  ];
}

/**
 * The plain-PostgreSQL bars_1m query: the body of the view, and (with `where`, a condition on trades) of
 * barsRangeSql's aggregation. One text for both, so the bars of a range cannot drift from the view's.
 * The view is released (migration 3, text pinned by a test): changing the bars means a new migration
 * that replaces the view, together with this text.
 */
function plainBarsSql(where: string | null): string {
  const asc = TRADE_ORDER.join(', ');
  const desc = TRADE_ORDER.map((c) => `${c} DESC`).join(', ');
  return `SELECT ${MINUTE_BUCKET_PG} AS bucket,
  symbol,
  (array_agg(price ORDER BY ${asc}))[1] AS open,
  ${BAR_MEASURES},
  (array_agg(price ORDER BY ${desc}))[1] AS close,
  ${BAR_TOTALS}
FROM trades${where === null ? '' : `\nWHERE ${where}`}
GROUP BY 1, 2`;
}

/**
 * A range of bars_1m: SQL expressions, typically bind parameters; each may evaluate to NULL, which
 * leaves that side unbounded (`$n IS NULL` folds away when PostgreSQL plans with the bound values, as
 * it does for pg's unnamed statements).
 */
export interface BarsRange {
  /** text: the symbol. */
  symbol?: string;
  /** int8 µs: inclusive lower bound on the bucket start. */
  from?: string;
  /** int8 µs: exclusive upper bound on the bucket start. */
  to?: string;
}

/**
 * A FROM item named bars_1m, with the columns of bars_1m, holding exactly its rows in `range`.
 *
 * TimescaleDB: the continuous aggregate filtered on bucket. Plain PostgreSQL: bars_1m is a view, and a
 * filter on its bucket reaches trades only as a filter on the date_bin expression, which the
 * (symbol, time DESC) index cannot serve: the whole symbol would be aggregated. So the range goes to
 * trades.time instead. bucket = the minute of time, hence `bucket >= X` <=> `time >= ceil(X)` and
 * `bucket < Y` <=> `time < ceil(Y)`, ceil rounding up to a whole minute (identity on whole minutes):
 * every minute is either wholly in or wholly out, and its bar is the view's bar.
 */
export function barsRangeSql(mode: SchemaMode, range: BarsRange): string {
  const conds: string[] = [];
  if (range.symbol !== undefined) conds.push(`(${range.symbol} IS NULL OR symbol = ${range.symbol})`);
  const bound = (expr: string | undefined, op: '>=' | '<') => {
    if (expr === undefined) return;
    const ts = microsToTimestamptzSql(expr);
    // ceil to the minute = the minute of (ts + 1 minute - 1 µs): timestamptz has µs resolution.
    const rhs = mode === 'timescale' ? ts : minuteBucketPg(`${ts} + interval '59.999999 seconds'`);
    conds.push(`(${expr} IS NULL OR ${mode === 'timescale' ? 'bucket' : 'time'} ${op} ${rhs})`);
  };
  bound(range.from, '>=');
  bound(range.to, '<');
  const where = conds.length ? conds.join('\n  AND ') : 'true';
  if (mode === 'timescale') return `(SELECT * FROM bars_1m\nWHERE ${where}) bars_1m`;
  return `(${plainBarsSql(where)}) bars_1m`;
}

export function alertsDdl(): Statement[] {
  return [
    {
      text: `CREATE TABLE price_alerts (
  window_start  timestamptz      NOT NULL,
  window_end    timestamptz      NOT NULL,
  symbol        text             NOT NULL,
  open          double precision NOT NULL,
  close         double precision NOT NULL,
  change_pct    double precision NOT NULL,
  threshold_pct double precision NOT NULL,
  direction     text             NOT NULL CHECK (direction IN ('UP', 'DOWN')),
  -- A re-emitted alert (aggregator restart, Kafka redelivery) is the same window: stored once.
  PRIMARY KEY (symbol, window_start, window_end)
)`,
    },
    { text: 'CREATE INDEX price_alerts_window_end_idx ON price_alerts (window_end DESC)' },
  ];
}

export function compressionDdl(mode: SchemaMode): Statement[] {
  if (mode === 'postgres') return [];
  return [
    {
      // Segment by symbol, order by time; source and trade_id follow time in the order so the identity
      // index's columns all have min/max metadata, which keeps ON CONFLICT checks against compressed chunks
      // from decompressing whole segments (TimescaleDB warns otherwise).
      text: `ALTER TABLE trades SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'symbol',
  timescaledb.compress_orderby = 'time, source, trade_id'
)`,
    },
  ];
}
