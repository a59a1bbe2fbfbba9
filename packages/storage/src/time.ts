// µs since the epoch <-> timestamptz. PostgreSQL stores timestamptz as int64 µs, so the conversion can be
// exact; going through float seconds (to_timestamp(x / 1e6)) is not: 1767364200.123457 has no exact double
// and can come back one µs off. Both directions below stay in integer arithmetic on the server.

/**
 * SQL turning an int8 µs expression into timestamptz. `int8 * interval` is interval_mul with the int8 as a
 * double: exact for |µs| < 2^53, which every safe-integer µs value is.
 */
export function microsToTimestamptzSql(expr: string): string {
  return `(timestamptz '1970-01-01 00:00:00+00' + (${expr}) * interval '1 microsecond')`;
}

/** SQL turning a timestamptz expression into int8 µs; extract(epoch ...) is numeric (exact) since PG 14. */
export function timestamptzToMicrosSql(expr: string): string {
  return `(extract(epoch from ${expr}) * 1000000)::int8`;
}

export function isMicros(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Throws a RangeError naming the field unless `value` is a safe-integer µs timestamp. */
export function assertMicros(value: unknown, field: string): asserts value is number {
  if (!isMicros(value)) {
    throw new RangeError(`${field} must be a safe integer of µs since the epoch, got ${String(value)}`);
  }
}

/** ISO-8601 with all six fractional digits, e.g. 2026-01-02T14:30:00.123456Z (for logs and messages). */
export function microsToIso(us: number): string {
  assertMicros(us, 'µs timestamp');
  const ms = Math.floor(us / 1000);
  const subMs = us - ms * 1000; // 0..999 even for negative values, thanks to floor
  const iso = new Date(ms).toISOString(); // ...sss Z
  return `${iso.slice(0, -1)}${String(subMs).padStart(3, '0')}Z`;
}

/** Parses an int8 column as returned by `pg` (a decimal string) into a safe-integer number. */
export function int8ToNumber(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${field} is not a safe integer: ${String(value)}`);
  return n;
}
