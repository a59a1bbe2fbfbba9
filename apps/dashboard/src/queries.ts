// The dashboard's read queries. One-minute bars and alerts come from @tickflow/storage; re-bucketed bars
// (5m, 15m, 1h, 1d), the newest trade time and the board's sparklines are here. Parameterised SQL only.
import {
  barsOneMinute,
  barsRangeSql,
  latestAlerts,
  microsToTimestamptzSql,
  type Queryable,
  type SchemaMode,
  schemaMode,
  timestamptzToMicrosSql,
} from '@tickflow/storage';
import type { AlertJson, BarIntervalName, BarJson } from './api-types.ts';
import { bucketStartUs, defaultFromUs, INTERVAL_US } from './params.ts';

export interface BarsRequest {
  symbol: string;
  interval: BarIntervalName;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

export interface AlertsRequest {
  symbol?: string | undefined;
  since?: number | undefined;
  limit: number;
}

export interface SparkRequest {
  symbol: string;
  /** The window ends at this time (the symbol's newest trade), µs. */
  untilUs: number;
}

export interface SparkPoint {
  start_us: number;
  open: number;
  close: number;
}

/** What the routes need from the database; tests pass a fake. */
export interface BarStore {
  bars(q: BarsRequest): Promise<BarJson[]>;
  alerts(q: AlertsRequest): Promise<AlertJson[]>;
  sparklines(symbols: readonly SparkRequest[], minutes: number): Promise<Map<string, SparkPoint[]>>;
  ping(): Promise<void>;
}

const EPOCH = `timestamptz '1970-01-01 00:00:00+00'`;

const NEWEST_TRADE_SQL = `SELECT ${timestamptzToMicrosSql('max(time)')} AS us FROM trades
 WHERE symbol = $1 AND ($2::int8 IS NULL OR time < ${microsToTimestamptzSql('$2::int8')})`;

/**
 * Coarser bars from bars_1m: open of the first minute, close of the last, extremes, total volume,
 * volume-weighted vwap, total trade count. date_bin on the epoch gives the same UTC-aligned buckets as
 * TimescaleDB's time_bucket and works on both schema paths. The minutes come from barsRangeSql, which on
 * plain PostgreSQL aggregates the range of trades itself (the bars_1m view could not use an index for it).
 */
const rebucketedBarsSql = (mode: SchemaMode) => `SELECT * FROM (
  SELECT ${timestamptzToMicrosSql('b')} AS start_us,
         (array_agg(open ORDER BY bucket))[1] AS open,
         max(high) AS high,
         min(low) AS low,
         (array_agg(close ORDER BY bucket DESC))[1] AS close,
         sum(volume) AS volume,
         sum(vwap * volume) / NULLIF(sum(volume), 0) AS vwap,
         sum(trade_count)::int8 AS trade_count
    FROM (SELECT date_bin($2::interval, bucket, ${EPOCH}) AS b, bucket, open, high, low, close, volume, vwap,
                 trade_count
            FROM ${barsRangeSql(mode, { symbol: '$1::text', from: '$3::int8', to: '$4::int8' })}) minutes
   GROUP BY b
   ORDER BY b DESC
   LIMIT $5
) latest ORDER BY start_us`;

const REBUCKETED_BARS_SQL: Record<SchemaMode, string> = {
  postgres: rebucketedBarsSql('postgres'),
  timescale: rebucketedBarsSql('timescale'),
};

/**
 * The one-minute bars of each symbol's window (the `$1` minutes ending at its newest trade: buckets in
 * (until - $1 minutes, until], i.e. [until - $1 minutes + 1 µs, until + 1 µs)), oldest first: one UNION ALL
 * branch per symbol with its own bind parameters. (A LATERAL join over unnest() reads the same, but
 * PostgreSQL cannot push a lateral reference into the bars_1m view's GROUP BY on the plain-PostgreSQL path,
 * so it aggregated every trade; per-branch constants reach the (symbol, time) index through barsRangeSql.)
 */
export function sparkSql(mode: SchemaMode, count: number): string {
  const branches: string[] = [];
  for (let i = 0; i < count; i++) {
    const sym = `$${2 * i + 2}::text`;
    const until = `$${2 * i + 3}::int8`;
    const range = barsRangeSql(mode, {
      symbol: sym,
      from: `(${until} - $1::int8 * 60000000 + 1)`,
      to: `(${until} + 1)`,
    });
    branches.push(`SELECT ${sym} AS symbol, ${timestamptzToMicrosSql('bucket')} AS start_us, open, close
  FROM ${range}`);
  }
  return `${branches.join('\nUNION ALL\n')}\nORDER BY symbol, start_us`;
}

/** Symbols per sparkline statement (two bind parameters each; keeps the statement far below the ~64 KB PGlite takes). */
const SPARK_CHUNK = 50;

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export class SqlBarStore implements BarStore {
  readonly #db: Queryable;
  #mode: SchemaMode | undefined;

  /** `mode`: the schema path of `db` if known; otherwise detected at the first query that needs it. */
  constructor(db: Queryable, mode?: SchemaMode) {
    this.#db = db;
    this.#mode = mode;
  }

  /**
   * The schema path, detected once: it never changes once trades exists. Not cached while the database
   * is not migrated yet (the dashboard may start before the aggregator has migrated it).
   */
  async #schemaMode(): Promise<SchemaMode> {
    if (this.#mode === undefined) {
      const mode = await schemaMode(this.#db);
      if (mode === null) {
        throw new Error('the database has no trades table: not migrated yet (the aggregator migrates it)');
      }
      this.#mode = mode;
    }
    return this.#mode;
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  /** The newest `limit` bars of [from, to); without `from`, the `limit` buckets up to the newest trade. */
  async bars(q: BarsRequest): Promise<BarJson[]> {
    const lengthUs = INTERVAL_US[q.interval];
    let from = q.from;
    if (from === undefined) {
      const { rows } = await this.#db.query<{ us: string | null }>(NEWEST_TRADE_SQL, [
        q.symbol,
        q.to ?? null,
      ]);
      const newest = rows[0]?.us;
      if (newest === null || newest === undefined) return [];
      from = defaultFromUs(num(newest), lengthUs, q.limit);
    } else {
      from = bucketStartUs(from, lengthUs);
    }
    const mode = await this.#schemaMode();
    if (q.interval === '1m') {
      const rows = await barsOneMinute(this.#db, { mode, symbol: q.symbol, from, to: q.to, limit: q.limit });
      return rows.map((r) => ({
        start_us: r.bucketUs,
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
        vwap: r.vwap,
        trade_count: r.tradeCount,
      }));
    }
    const { rows } = await this.#db.query<Record<string, unknown>>(REBUCKETED_BARS_SQL[mode], [
      q.symbol,
      `${lengthUs / 1_000_000} seconds`,
      from,
      q.to ?? null,
      q.limit,
    ]);
    return rows.map((r) => ({
      start_us: num(r.start_us),
      open: num(r.open),
      high: num(r.high),
      low: num(r.low),
      close: num(r.close),
      volume: num(r.volume),
      vwap: num(r.vwap ?? r.close),
      trade_count: num(r.trade_count),
    }));
  }

  async alerts(q: AlertsRequest): Promise<AlertJson[]> {
    const rows = await latestAlerts(this.#db, { symbol: q.symbol, since: q.since, limit: q.limit });
    return rows.map((a) => ({
      symbol: a.symbol,
      window_start_us: a.windowStartUs,
      window_end_us: a.windowEndUs,
      open: a.open,
      close: a.close,
      change_pct: a.changePct,
      threshold_pct: a.thresholdPct,
      direction: a.direction,
    }));
  }

  async sparklines(symbols: readonly SparkRequest[], minutes: number): Promise<Map<string, SparkPoint[]>> {
    const out = new Map<string, SparkPoint[]>();
    if (symbols.length === 0) return out;
    const mode = await this.#schemaMode();
    const rows: Array<{ symbol: string; start_us: string; open: number; close: number }> = [];
    for (let i = 0; i < symbols.length; i += SPARK_CHUNK) {
      const chunk = symbols.slice(i, i + SPARK_CHUNK);
      const res = await this.#db.query<{ symbol: string; start_us: string; open: number; close: number }>(
        sparkSql(mode, chunk.length),
        [minutes, ...chunk.flatMap((s) => [s.symbol, s.untilUs])],
      );
      rows.push(...res.rows);
    }
    for (const r of rows) {
      let list = out.get(r.symbol);
      if (list === undefined) {
        list = [];
        out.set(r.symbol, list);
      }
      list.push({ start_us: num(r.start_us), open: r.open, close: r.close });
    }
    return out;
  }
}
