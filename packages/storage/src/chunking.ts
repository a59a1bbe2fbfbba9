// Splits a batch into statements bounded both by row count and by the size of the protocol message.

export interface ChunkLimits {
  /** Most rows per statement. */
  maxRows: number;
  /** Most parameter bytes per statement (Infinity: no byte bound). */
  maxBytes: number;
}

/**
 * Plans [start, end) ranges over rows whose encoded sizes are `rowBytes`. A row larger than `maxBytes` on its
 * own still gets a chunk of one: the server, not this planner, then decides whether it fits.
 */
export function planChunks(rowBytes: readonly number[], limits: ChunkLimits): Array<[number, number]> {
  const { maxRows, maxBytes } = limits;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be >= 1, got ${maxRows}`);
  if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be > 0, got ${maxBytes}`);
  const chunks: Array<[number, number]> = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < rowBytes.length; i++) {
    const b = rowBytes[i] ?? 0;
    if (i > start && (i - start >= maxRows || bytes + b > maxBytes)) {
      chunks.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += b;
  }
  if (start < rowBytes.length) chunks.push([start, rowBytes.length]);
  return chunks;
}
