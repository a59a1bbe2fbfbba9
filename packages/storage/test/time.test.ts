import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertMicros, microsToIso } from '../src/time.ts';

/** Reference: integer-only µs -> ISO, with BigInt so no float is involved at all. */
function isoByBigInt(us: number): string {
  const b = BigInt(us);
  const secs = b >= 0n ? b / 1_000_000n : -((-b + 999_999n) / 1_000_000n);
  const frac = b - secs * 1_000_000n;
  const whole = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${whole}.${frac.toString().padStart(6, '0')}Z`;
}

describe('microsToIso', () => {
  it('keeps all six fractional digits', () => {
    expect(microsToIso(1_767_364_200_123_457)).toBe('2026-01-02T14:30:00.123457Z');
    expect(microsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(-1)).toBe('1969-12-31T23:59:59.999999Z');
  });

  it('matches an integer-only computation for any µs in years 1900..2200', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_208_988_800_000_000, max: 7_258_118_400_000_000 }), (us) => {
        expect(microsToIso(us)).toBe(isoByBigInt(us));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('assertMicros', () => {
  it('accepts safe integers and names the field otherwise', () => {
    expect(() => assertMicros(1_767_364_200_123_457, 'eventTimeUs')).not.toThrow();
    expect(() => assertMicros(1.5, 'eventTimeUs')).toThrow(/eventTimeUs/);
    expect(() => assertMicros(2 ** 53, 'eventTimeUs')).toThrow(RangeError);
    expect(() => assertMicros('1', 'eventTimeUs')).toThrow(RangeError);
  });
});
