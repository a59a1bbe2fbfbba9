// Idempotent, durable trade writes: a trade is stored once whatever the redeliveries, replays and restarts.
import type { ChunkLimits } from './chunking.ts';
import { floatElement, intElement, textElement } from './pg-array.ts';
import type { Queryable } from './queryable.ts';
import { IDENTITY_KEY_SQL } from './schema.ts';
import type { ServerInfo } from './server.ts';
import { microsToTimestamptzSql } from './time.ts';
import type { Trade } from './types.ts';
import { buildUnnestInsert, insertUnnest, type UnnestColumn } from './unnest-insert.ts';

export interface TradeWriteOptions {
  /**
   * Receives the key (`tradeKey`) of every trade this call newly inserted, chunk by chunk as each
   * commits, so a caller that retries a partly failed write still learns about the chunks that made it.
   */
  fresh?: Set<string>;
}

export interface TradeWriter {
  /** Resolves once every trade is committed; `inserted` excludes trades that were already stored. */
  write(trades: readonly Trade[], options?: TradeWriteOptions): Promise<{ inserted: number }>;
}

/** The identity of a stored trade as one string: what IDENTITY_KEY_SQL computes in the database. */
export function tradeKey(source: string, symbol: string, tradeId: string): string {
  return `${source}\u001f${symbol}\u001f${tradeId}`;
}

export type TradeWriteStrategy = 'unnest';

export interface TradeWriterOptions {
  strategy?: TradeWriteStrategy;
  /** Most rows per statement (default 5 000; PGlite: at most 500). */
  chunkRows?: number;
  /** Most bytes per protocol message (default: unbounded; PGlite: 48 KiB, it aborts above ~64 KiB). */
  maxStatementBytes?: number;
}

/** PGlite over pglite-socket aborts on protocol messages above ~64 KiB; these limits keep well below. */
export const PGLITE_WRITE_LIMITS: ChunkLimits = { maxRows: 500, maxBytes: 48 * 1024 };
export const POSTGRES_WRITE_LIMITS: ChunkLimits = { maxRows: 5000, maxBytes: Number.POSITIVE_INFINITY };

/** Write options suited to the server (PGlite's limits, or PostgreSQL's defaults). */
export function writerOptionsFor(server: Pick<ServerInfo, 'pglite'>): TradeWriterOptions {
  const l = server.pglite ? PGLITE_WRITE_LIMITS : POSTGRES_WRITE_LIMITS;
  return { strategy: 'unnest', chunkRows: l.maxRows, maxStatementBytes: l.maxBytes };
}

function checkTrade(t: Trade, i: number): void {
  // The few checks that keep a bad value from corrupting a whole statement; contract validation is upstream.
  if (!Number.isSafeInteger(t.eventTimeUs) || !Number.isSafeInteger(t.ingestTimeUs)) {
    throw new RangeError(`trade ${i} (${t.symbol} ${t.tradeId}): times must be safe-integer µs`);
  }
  if (typeof t.symbol !== 'string' || typeof t.source !== 'string' || typeof t.tradeId !== 'string') {
    throw new TypeError(`trade ${i}: symbol, source and tradeId must be strings`);
  }
}

export const TRADE_COLUMNS: readonly UnnestColumn<Trade>[] = [
  { column: 'time', type: 'int8', element: (t) => intElement(t.eventTimeUs), select: microsToTimestamptzSql },
  { column: 'symbol', type: 'text', element: (t) => textElement(t.symbol) },
  { column: 'price', type: 'float8', element: (t) => floatElement(t.price) },
  { column: 'size', type: 'float8', element: (t) => floatElement(t.size) },
  { column: 'source', type: 'text', element: (t) => textElement(t.source) },
  { column: 'trade_id', type: 'text', element: (t) => textElement(t.tradeId) },
  {
    column: 'ingest_time',
    type: 'int8',
    element: (t) => intElement(t.ingestTimeUs),
    select: microsToTimestamptzSql,
  },
];

export const INSERT_TRADES_SQL = buildUnnestInsert('trades', TRADE_COLUMNS);
/** Returns each newly stored trade's identity as one value, the same string `tradeKey` builds. */
export const INSERT_TRADES_RETURNING_SQL = `${INSERT_TRADES_SQL} RETURNING ${IDENTITY_KEY_SQL}`;

/** Bulk insert through unnest'ed array parameters; one round trip per chunk. */
export class UnnestTradeWriter implements TradeWriter {
  readonly #db: Queryable;
  readonly #limits: ChunkLimits;

  constructor(db: Queryable, options: TradeWriterOptions = {}) {
    this.#db = db;
    this.#limits = {
      maxRows: options.chunkRows ?? POSTGRES_WRITE_LIMITS.maxRows,
      maxBytes: options.maxStatementBytes ?? POSTGRES_WRITE_LIMITS.maxBytes,
    };
  }

  async write(trades: readonly Trade[], options: TradeWriteOptions = {}): Promise<{ inserted: number }> {
    trades.forEach(checkTrade);
    const fresh = options.fresh;
    const inserted = fresh
      ? await insertUnnest(
          this.#db,
          'tickflow_insert_trades_returning',
          INSERT_TRADES_RETURNING_SQL,
          trades,
          TRADE_COLUMNS,
          this.#limits,
          (rows) => {
            for (const r of rows) fresh.add(r[0] as string);
          },
        )
      : await insertUnnest(
          this.#db,
          'tickflow_insert_trades',
          INSERT_TRADES_SQL,
          trades,
          TRADE_COLUMNS,
          this.#limits,
        );
    return { inserted };
  }
}

export function createTradeWriter(db: Queryable, options: TradeWriterOptions = {}): TradeWriter {
  const strategy = options.strategy ?? 'unnest';
  switch (strategy) {
    case 'unnest':
      return new UnnestTradeWriter(db, options);
    default:
      throw new RangeError(`unknown trade write strategy: ${String(strategy)}`);
  }
}
