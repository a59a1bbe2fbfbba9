// PostgreSQL array literals built by hand rather than by `pg`'s generic serializer: the writers need the exact
// byte size of every parameter to keep each protocol message under a limit (PGlite aborts above ~64 KB), and
// building the literal ourselves is also cheaper than pg's per-element type dispatch.

/** One text element, always quoted so no value (empty, NULL-like, with commas or braces) can be misread. */
const NEEDS_ESCAPE = /["\\]/;

export function textElement(value: string): string {
  // Inside a quoted element only `"` and `\` need escaping; the test first skips the replace (most values).
  return NEEDS_ESCAPE.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

/** One float8 element; JS's shortest round-trip repr is read back to the identical double by float8in. */
export function floatElement(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(value, -0)) return '-0'; // String(-0) is '0'
  return String(value); // may be exponent form (1e-7), which float8in accepts
}

/** One int8 element (e.g. µs timestamps); callers validate that values are safe integers. */
export function intElement(value: number): string {
  return String(value);
}

/** Joins already-encoded elements into an array literal `{a,b,c}`. */
export function arrayLiteral(elements: readonly string[]): string {
  return `{${elements.join(',')}}`;
}

/** UTF-8 byte length of a JS string without allocating (ASCII fast path). */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 4; // surrogate pair: one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}
