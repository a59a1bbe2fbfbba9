// Idempotent, durable trade writes: a trade is stored once whatever the redeliveries, replays and restarts.
import type { ChunkLimits } from './chunking.ts';
import type { Queryable } from './queryable.ts';
import { IDENTITY_KEY_SQL } from './schema.ts';
import type { ServerInfo } from './server.ts';
import type { Trade } from './types.ts';
import { buildUnnestInsert, type EncodedChunk, encodeChunks, type UnnestColumn } from './unnest-insert.ts';

export interface TradeWriteOptions {
  /**
   * One flag per trade (same length and order as the trades): set to 1 for every trade this call
   * newly inserted, chunk by chunk as each commits, so a caller that retries a partly failed write
   * with the same array keeps the flags of the chunks that made it. Of identical trades within one
   * call only the first is flagged.
   */
  fresh?: Uint8Array;
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
  { column: 'time', type: 'timestamptz', value: (t) => t.eventTimeUs },
  { column: 'symbol', type: 'text', value: (t) => t.symbol },
  { column: 'price', type: 'float8', value: (t) => t.price },
  { column: 'size', type: 'float8', value: (t) => t.size },
  { column: 'source', type: 'text', value: (t) => t.source },
  { column: 'trade_id', type: 'text', value: (t) => t.tradeId },
  { column: 'ingest_time', type: 'timestamptz', value: (t) => t.ingestTimeUs },
];

export const INSERT_TRADES_SQL = buildUnnestInsert('trades', TRADE_COLUMNS);

/**
 * The first attempt at every chunk: a plain INSERT, which fails as a whole (and commits nothing) if
 * any trade is already stored. ON CONFLICT's speculative insertion costs PostgreSQL an extra WAL
 * record and lock round per row (server CPU 10.6 -> 7.4 µs/row, scripts/bench-trade-indexes.ts), a
 * price the pipeline then pays only for chunks that hold a redelivered trade.
 */
export const INSERT_NEW_TRADES_SQL = buildUnnestInsert('trades', TRADE_COLUMNS, false);

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';
/**
 * One result row per chunk: how many trades it inserted and, only when that is not all of them (a
 * redelivery), the identities of those it did insert (the strings `tradeKey` builds). Returning every
 * inserted row instead cost the aggregator 1.4 µs of CPU per trade (3.3 -> 1.9 µs/row measured with
 * 2,000-row chunks) for a list that is almost always "everything". $1 is the time column's array, so
 * its cardinality is the chunk's row count.
 */
export const INSERT_TRADES_FRESH_SQL = `WITH ins AS (${INSERT_TRADES_SQL} RETURNING ${IDENTITY_KEY_SQL} AS k)
SELECT count(*)::int4 AS inserted,
       CASE WHEN count(*) = cardinality($1::timestamptz[]) THEN NULL ELSE array_agg(k) END AS fresh
  FROM ins`;

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
    const { fresh } = options;
    let inserted = 0;
    for (const chunk of encodeChunks(trades, TRADE_COLUMNS, this.#limits)) {
      inserted += await this.#writeChunk(trades, chunk, fresh);
    }
    return { inserted };
  }

  async #writeChunk(trades: readonly Trade[], chunk: EncodedChunk, fresh?: Uint8Array): Promise<number> {
    const { start, end, values } = chunk;
    try {
      const res = await this.#db.query({
        name: 'tickflow_insert_new_trades',
        text: INSERT_NEW_TRADES_SQL,
        values,
      });
      fresh?.fill(1, start, end);
      return res.rowCount ?? 0;
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    }
    // Some of the chunk is stored already (a redelivery, a replay): let the database skip those.
    if (!fresh) {
      const res = await this.#db.query({ name: 'tickflow_insert_trades', text: INSERT_TRADES_SQL, values });
      return res.rowCount ?? 0;
    }
    const res = await this.#db.query({
      name: 'tickflow_insert_trades_fresh',
      text: INSERT_TRADES_FRESH_SQL,
      values,
      rowMode: 'array',
    });
    return flagFresh(trades, fresh, res.rows[0], start, end);
  }
}

/** Sets the fresh flags of one chunk from its result row [inserted, identities or null]. */
function flagFresh(
  trades: readonly Trade[],
  fresh: Uint8Array,
  row: readonly unknown[] | undefined,
  start: number,
  end: number,
): number {
  const inserted = Number(row?.[0] ?? 0);
  const keys = row?.[1] as string[] | null | undefined;
  if (keys == null) {
    if (inserted === end - start) fresh.fill(1, start, end);
    return inserted;
  }
  // Some were already stored: match identities back to positions, first occurrence first.
  const positions = new Map<string, number[]>();
  for (let i = start; i < end; i++) {
    const t = trades[i] as Trade;
    const k = tradeKey(t.source, t.symbol, t.tradeId);
    const list = positions.get(k);
    if (list) list.push(i);
    else positions.set(k, [i]);
  }
  for (const k of keys) {
    const i = positions.get(k)?.shift();
    if (i !== undefined) fresh[i] = 1;
  }
  return inserted;
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
