// One-dimensional array parameters in PostgreSQL's binary format (what array_send writes and array_recv
// reads). node-postgres sends a Buffer parameter as binary, so the server skips array_in's text scanner and
// float8in's strtod, and the client skips building a decimal string per number: the trades INSERT's text
// encoding was ~6 % of the aggregator's CPU at 20k msg/s. Sizes are exact, which the per-statement byte
// limit (PGlite aborts above ~64 KiB) needs anyway.
//
// Layout: int32 ndim (1), int32 has-nulls (0), uint32 element type OID, int32 length, int32 lower bound (1),
// then per element int32 byte length and the element's own binary form (int8, float8: 8 bytes big-endian;
// timestamptz: int8 µs since 2000-01-01; text: the UTF-8 bytes).

export type ArrayElementType = 'int8' | 'float8' | 'timestamptz' | 'text';

/** pg_type OIDs; array_recv rejects an array whose element OID differs from the parameter's cast. */
export const ELEMENT_TYPE_OID: Readonly<Record<ArrayElementType, number>> = {
  int8: 20,
  float8: 701,
  timestamptz: 1184,
  text: 25,
};

export const ARRAY_HEADER_BYTES = 20;
/** A fixed-size element on the wire: its int32 length and 8 bytes. */
export const FIXED_ELEMENT_BYTES = 12;

/** µs from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z), the zero of timestamptz's binary form. */
export const POSTGRES_EPOCH_OFFSET_US = 946_684_800_000_000;

const TWO_POW_32 = 4_294_967_296;
/** Longest ASCII string copied by a JS loop rather than Buffer#write (break-even measured near 32 chars). */
const SHORT_ASCII = 24;

/** UTF-8 byte length of a JS string without allocating (ASCII fast path). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair: one 4-byte code point
        i++;
      } else bytes += 3; // a lone high surrogate becomes U+FFFD
    } else bytes += 3;
  }
  return bytes;
}

/** Writes a safe integer as a big-endian int64 without a BigInt (hi word signed, lo word unsigned). */
function writeInt64(buf: Buffer, value: number, offset: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, offset);
  buf.writeUInt32BE(value - hi * TWO_POW_32, offset + 4);
}

function writeHeader(buf: Buffer, type: ArrayElementType, length: number): number {
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(0, 4);
  buf.writeUInt32BE(ELEMENT_TYPE_OID[type], 8);
  buf.writeInt32BE(length, 12);
  buf.writeInt32BE(1, 16);
  return ARRAY_HEADER_BYTES;
}

/**
 * Encodes values[start, end) of numeric elements. int8 and timestamptz values must be safe integers
 * (timestamptz: µs since the Unix epoch); anything else is a RangeError naming the index.
 */
export function encodeNumberArray(
  type: Exclude<ArrayElementType, 'text'>,
  values: ArrayLike<number>,
  start = 0,
  end = values.length,
): Buffer {
  const buf = Buffer.allocUnsafe(ARRAY_HEADER_BYTES + (end - start) * FIXED_ELEMENT_BYTES);
  let off = writeHeader(buf, type, end - start);
  for (let i = start; i < end; i++) {
    const v = values[i] as number;
    buf.writeInt32BE(8, off);
    if (type === 'float8') buf.writeDoubleBE(v, off + 4);
    else {
      if (!Number.isSafeInteger(v))
        throw new RangeError(`${type} element ${i} must be a safe integer, got ${v}`);
      writeInt64(buf, type === 'timestamptz' ? v - POSTGRES_EPOCH_OFFSET_US : v, off + 4);
    }
    off += FIXED_ELEMENT_BYTES;
  }
  return buf;
}

/** Encodes values[start, end) as text elements; `byteLengths[i]` must be utf8Length(values[i]). */
export function encodeTextArray(
  values: ArrayLike<string>,
  byteLengths: ArrayLike<number>,
  start = 0,
  end = values.length,
): Buffer {
  let size = ARRAY_HEADER_BYTES;
  for (let i = start; i < end; i++) size += 4 + (byteLengths[i] as number);
  const buf = Buffer.allocUnsafe(size);
  let off = writeHeader(buf, 'text', end - start);
  for (let i = start; i < end; i++) {
    const n = byteLengths[i] as number;
    buf.writeInt32BE(n, off);
    const s = values[i] as string;
    off += 4;
    if (n === s.length && n <= SHORT_ASCII) {
      // ASCII (byte length = code units) and short, as symbols and trade ids are: a loop beats a native call.
      for (let j = 0; j < n; j++) buf[off + j] = s.charCodeAt(j);
    } else if (n > 0) buf.write(s, off, n, 'utf8');
    off += n;
  }
  return buf;
}
