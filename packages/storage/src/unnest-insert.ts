// Idempotent bulk insert as one statement per chunk:
//   INSERT INTO t (cols) SELECT ... FROM unnest($1::type[], ...) AS u(...) ON CONFLICT DO NOTHING
// One parameter per column whatever the row count, so the statement text (and its prepared plan) is the
// same for every chunk, and each chunk is one round trip committed on its own. The arrays travel in
// PostgreSQL's binary format (pg-binary-array.ts).
import { type ChunkLimits, planChunks } from './chunking.ts';
import {
  ARRAY_HEADER_BYTES,
  encodeNumberArray,
  encodeTextArray,
  FIXED_ELEMENT_BYTES,
  utf8Length,
} from './pg-binary-array.ts';
import type { Queryable } from './queryable.ts';

interface ColumnBase {
  /** Target column. */
  column: string;
  /** SQL turning the unnested value `v` into the column's type (default: `v` itself). */
  select?: (v: string) => string;
}

/** A numeric column; int8 and timestamptz (µs since the Unix epoch) values must be safe integers. */
export interface NumberColumn<T> extends ColumnBase {
  type: 'int8' | 'float8' | 'timestamptz';
  value(row: T): number;
}

export interface TextColumn<T> extends ColumnBase {
  type: 'text';
  value(row: T): string;
}

export type UnnestColumn<T> = NumberColumn<T> | TextColumn<T>;

/** Bytes reserved per statement for the SQL text and the message headers (arrays are counted exactly). */
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

/** A column's values for every row, pulled out once; text columns also carry their UTF-8 byte lengths. */
type ColumnValues = { type: NumberColumn<unknown>['type']; values: number[] } | TextValues;
interface TextValues {
  type: 'text';
  values: string[];
  byteLengths: Int32Array;
}

function extract<T>(rows: readonly T[], column: UnnestColumn<T>): ColumnValues {
  const n = rows.length;
  if (column.type === 'text') {
    const values = new Array<string>(n);
    const byteLengths = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const s = column.value(rows[r] as T);
      values[r] = s;
      byteLengths[r] = utf8Length(s);
    }
    return { type: 'text', values, byteLengths };
  }
  const values = new Array<number>(n);
  for (let r = 0; r < n; r++) values[r] = column.value(rows[r] as T);
  return { type: column.type, values };
}

/** Wire bytes of every row across all columns (the element length words included). */
function rowWireBytes(columns: readonly ColumnValues[], rowCount: number): number[] {
  let fixed = 0;
  for (const c of columns) if (c.type !== 'text') fixed += FIXED_ELEMENT_BYTES;
  const bytes = new Array<number>(rowCount).fill(fixed);
  for (const c of columns) {
    if (c.type !== 'text') continue;
    for (let r = 0; r < rowCount; r++) bytes[r] = (bytes[r] as number) + 4 + (c.byteLengths[r] as number);
  }
  return bytes;
}

/** One statement's worth of rows, [start, end) of the input, as one binary array parameter per column. */
export interface EncodedChunk {
  start: number;
  end: number;
  values: Buffer[];
}

/** Encodes `rows` into chunks that respect the row and byte limits of one statement. */
export function encodeChunks<T>(
  rows: readonly T[],
  columns: readonly UnnestColumn<T>[],
  limits: ChunkLimits,
): EncodedChunk[] {
  if (rows.length === 0) return [];
  const extracted = columns.map((c) => extract(rows, c));
  // Sizes are only measured when a byte limit applies (PGlite); otherwise rows alone bound a chunk.
  const ranges = Number.isFinite(limits.maxBytes)
    ? planChunks(rowWireBytes(extracted, rows.length), {
        maxRows: limits.maxRows,
        maxBytes: Math.max(
          1,
          limits.maxBytes - STATEMENT_OVERHEAD_BYTES - columns.length * ARRAY_HEADER_BYTES,
        ),
      })
    : planChunks(new Array<number>(rows.length).fill(0), limits);
  return ranges.map(([start, end]) => ({
    start,
    end,
    values: extracted.map((c) =>
      c.type === 'text'
        ? encodeTextArray(c.values, c.byteLengths, start, end)
        : encodeNumberArray(c.type, c.values, start, end),
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
