// Idempotent bulk insert as one statement per chunk:
//   INSERT INTO t (cols) SELECT ... FROM unnest($1::type[], ...) AS u(...) ON CONFLICT DO NOTHING
// One parameter per column whatever the row count, so the statement text (and its prepared plan) is the
// same for every chunk, and each chunk is one round trip committed on its own.
import { type ChunkLimits, planChunks } from './chunking.ts';
import { arrayLiteral, utf8Length } from './pg-array.ts';
import type { Queryable } from './queryable.ts';

export interface UnnestColumn<T> {
  /** Target column. */
  column: string;
  /** Element type of the array parameter. */
  type: 'int8' | 'text' | 'float8';
  /** The row's value as an already-escaped array element (see pg-array.ts). */
  element(row: T): string;
  /** SQL turning the unnested value `v` into the column's type (default: `v` itself). */
  select?: (v: string) => string;
}

/** Bytes reserved per statement for the SQL text, message headers and array braces. */
export const STATEMENT_OVERHEAD_BYTES = 2048;

export function buildUnnestInsert<T>(
  table: string,
  columns: readonly UnnestColumn<T>[],
  /** false: a plain INSERT that fails on a duplicate instead of skipping it. */
  skipConflicts = true,
): string {
  const names = columns.map((c) => c.column).join(', ');
  const selects = columns.map((c, i) => (c.select ? c.select(`u.c${i}`) : `u.c${i}`)).join(', ');
  const params = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const aliases = columns.map((_, i) => `c${i}`).join(', ');
  const insert = `INSERT INTO ${table} (${names}) SELECT ${selects} FROM unnest(${params}) AS u(${aliases})`;
  return skipConflicts ? `${insert} ON CONFLICT DO NOTHING` : insert;
}

export interface EncodedRows {
  /** Per column, the encoded element of every row. */
  elements: string[][];
  /** Encoded size of every row across all columns, separators included (0 when not measured). */
  rowBytes: number[];
}

/** `measure` false skips the byte count, which only a statement size limit (PGlite) needs. */
export function encodeRows<T>(
  rows: readonly T[],
  columns: readonly UnnestColumn<T>[],
  measure = true,
): EncodedRows {
  const elements: string[][] = columns.map(() => new Array<string>(rows.length));
  const rowBytes = new Array<number>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as T;
    let bytes = 0;
    for (let c = 0; c < columns.length; c++) {
      const e = (columns[c] as UnnestColumn<T>).element(row);
      (elements[c] as string[])[r] = e;
      if (measure) bytes += utf8Length(e) + 1; // + the comma
    }
    rowBytes[r] = bytes;
  }
  return { elements, rowBytes };
}

/** One statement's worth of rows, [start, end) of the input, as one array-literal parameter per column. */
export interface EncodedChunk {
  start: number;
  end: number;
  values: string[];
}

/** Encodes `rows` into chunks that respect the row and byte limits of one statement. */
export function encodeChunks<T>(
  rows: readonly T[],
  columns: readonly UnnestColumn<T>[],
  limits: ChunkLimits,
): EncodedChunk[] {
  if (rows.length === 0) return [];
  const { elements, rowBytes } = encodeRows(rows, columns, Number.isFinite(limits.maxBytes));
  const maxBytes = Number.isFinite(limits.maxBytes)
    ? Math.max(1, limits.maxBytes - STATEMENT_OVERHEAD_BYTES)
    : limits.maxBytes;
  return planChunks(rowBytes, { maxRows: limits.maxRows, maxBytes }).map(([start, end]) => ({
    start,
    end,
    values: elements.map((col) =>
      arrayLiteral(start === 0 && end === col.length ? col : col.slice(start, end)),
    ),
  }));
}

/**
 * Inserts `rows` chunk by chunk (each chunk an autocommitted statement, so durable when this resolves);
 * returns how many rows were new. A failure leaves earlier chunks committed, which is harmless: the caller
 * retries the whole batch and ON CONFLICT DO NOTHING skips what is already there.
 */
export async function insertUnnest<T>(
  db: Queryable,
  statementName: string,
  sql: string,
  rows: readonly T[],
  columns: readonly UnnestColumn<T>[],
  limits: ChunkLimits,
): Promise<number> {
  let inserted = 0;
  for (const { values } of encodeChunks(rows, columns, limits)) {
    const res = await db.query({ name: statementName, text: sql, values });
    inserted += res.rowCount ?? 0;
  }
  return inserted;
}
