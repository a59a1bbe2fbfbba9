// Shared plumbing for the message modules: strict decoding on top of the generated static codecs.
import $protobuf from 'protobufjs/minimal.js';

/** Thrown by decodeBar/decodeAlert; decodeTrade reports failures as values instead (it feeds the DLQ). */
export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

type Int64 = number | { toNumber(): number };

/**
 * `--force-number` only changes the generated typings: at run time protobufjs returns a Long whenever the
 * `long` package is present (a dependency of protobufjs 8), so int64 fields are normalised here.
 * Microsecond timestamps stay below 2^53, so the conversion is exact for every valid value.
 */
export function int64ToNumber(value: Int64 | null | undefined): number {
  return typeof value === 'number' ? value : value == null ? 0 : value.toNumber();
}

/**
 * A reader that keeps unknown fields instead of discarding them, so a decode can tell forward-compatible
 * additions (new field numbers, accepted) from garbage that hit a known field with the wrong wire type.
 */
export function keepingReader(bytes: Uint8Array): $protobuf.Reader {
  const reader = $protobuf.Reader.create(bytes);
  reader.discardUnknown = false;
  return reader;
}

const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

/**
 * The generated decoders route a known field number with an unexpected wire type into `$unknowns`.
 * Field numbers of these messages are dense (1..maxKnownField) and never reused, so any such entry
 * can only come from corrupt bytes. Returns a description of the first one, or null.
 */
export function misTypedKnownField(
  unknowns: readonly Uint8Array[] | undefined,
  maxKnownField: number,
): string | null {
  if (unknowns === undefined) return null;
  for (const raw of unknowns) {
    let tag = 0;
    let shift = 0;
    for (let i = 0; i < raw.length && i < 5; i++) {
      const byte = raw[i] as number;
      tag += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    const field = Math.floor(tag / 8);
    if (field >= 1 && field <= maxKnownField) {
      return `field ${field} has unexpected wire type ${WIRE_TYPE_NAMES[tag % 8] ?? tag % 8}`;
    }
  }
  return null;
}

/** Quotes strings and spells out special numbers, truncating so a hostile value cannot bloat a DLQ header. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return value.length > 40 ? `${quoted} (${value.length} chars)` : quoted;
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null || value === undefined) return String(value);
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
