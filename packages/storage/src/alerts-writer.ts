// Idempotent alert writes: a re-emitted alert (same symbol and window) is stored once.
import type { ChunkLimits } from './chunking.ts';
import { floatElement, intElement, textElement } from './pg-array.ts';
import type { Queryable } from './queryable.ts';
import { microsToTimestamptzSql } from './time.ts';
import { POSTGRES_WRITE_LIMITS, type TradeWriterOptions } from './trades-writer.ts';
import type { PriceAlert } from './types.ts';
import { buildUnnestInsert, insertUnnest, type UnnestColumn } from './unnest-insert.ts';

export const ALERT_COLUMNS: readonly UnnestColumn<PriceAlert>[] = [
  {
    column: 'window_start',
    type: 'int8',
    element: (a) => intElement(a.windowStartUs),
    select: microsToTimestamptzSql,
  },
  {
    column: 'window_end',
    type: 'int8',
    element: (a) => intElement(a.windowEndUs),
    select: microsToTimestamptzSql,
  },
  { column: 'symbol', type: 'text', element: (a) => textElement(a.symbol) },
  { column: 'open', type: 'float8', element: (a) => floatElement(a.open) },
  { column: 'close', type: 'float8', element: (a) => floatElement(a.close) },
  { column: 'change_pct', type: 'float8', element: (a) => floatElement(a.changePct) },
  { column: 'threshold_pct', type: 'float8', element: (a) => floatElement(a.thresholdPct) },
  { column: 'direction', type: 'text', element: (a) => textElement(a.direction) },
];

export const INSERT_ALERTS_SQL = buildUnnestInsert('price_alerts', ALERT_COLUMNS);

export class AlertWriter {
  readonly #db: Queryable;
  readonly #limits: ChunkLimits;

  /** Takes the same chunk options as the trade writer (use writerOptionsFor(server) on PGlite). */
  constructor(db: Queryable, options: Pick<TradeWriterOptions, 'chunkRows' | 'maxStatementBytes'> = {}) {
    this.#db = db;
    this.#limits = {
      maxRows: options.chunkRows ?? POSTGRES_WRITE_LIMITS.maxRows,
      maxBytes: options.maxStatementBytes ?? POSTGRES_WRITE_LIMITS.maxBytes,
    };
  }

  /** Resolves once every alert is committed; `inserted` excludes alerts that were already stored. */
  async write(alerts: readonly PriceAlert[]): Promise<{ inserted: number }> {
    alerts.forEach((a, i) => {
      if (!Number.isSafeInteger(a.windowStartUs) || !Number.isSafeInteger(a.windowEndUs)) {
        throw new RangeError(`alert ${i} (${a.symbol}): window times must be safe-integer µs`);
      }
    });
    const inserted = await insertUnnest(
      this.#db,
      'tickflow_insert_alerts',
      INSERT_ALERTS_SQL,
      alerts,
      ALERT_COLUMNS,
      this.#limits,
    );
    return { inserted };
  }
}
