// Idempotent alert writes: a re-emitted alert (same symbol and window) is stored once.
import type { ChunkLimits } from './chunking.ts';
import type { Queryable } from './queryable.ts';
import { POSTGRES_WRITE_LIMITS, type TradeWriterOptions } from './trades-writer.ts';
import type { PriceAlert } from './types.ts';
import { buildUnnestInsert, insertUnnest, type UnnestColumn } from './unnest-insert.ts';

export const ALERT_COLUMNS: readonly UnnestColumn<PriceAlert>[] = [
  { column: 'window_start', type: 'timestamptz', value: (a) => a.windowStartUs },
  { column: 'window_end', type: 'timestamptz', value: (a) => a.windowEndUs },
  { column: 'symbol', type: 'text', value: (a) => a.symbol },
  { column: 'open', type: 'float8', value: (a) => a.open },
  { column: 'close', type: 'float8', value: (a) => a.close },
  { column: 'change_pct', type: 'float8', value: (a) => a.changePct },
  { column: 'threshold_pct', type: 'float8', value: (a) => a.thresholdPct },
  { column: 'direction', type: 'text', value: (a) => a.direction },
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
