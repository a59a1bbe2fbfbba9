import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  bucketStartUs,
  defaultFromUs,
  parseRange,
  parseSymbolList,
  parseTimeParam,
} from '../src/params.ts';

const SYMBOL = /^[A-Z0-9][A-Z0-9._:\-/]{0,31}$/;

describe('parseTimeParam', () => {
  it.each([
    ['1767364200123456', 1767364200123456],
    ['2026-01-02T14:30:00Z', 1767364200000000],
    ['2026-01-02T14:30:00.123456Z', 1767364200123456],
    ['2026-01-02T14:30:00.1234567Z', 1767364200123456],
    ['2026-01-02T14:30:00.5Z', 1767364200500000],
    ['2026-01-02T15:30:00+01:00', 1767364200000000],
    ['2026-01-02T09:30:00-0500', 1767364200000000],
    ['2026-01-02T14:30Z', 1767364200000000],
    ['2026-01-02T14:30:00', 1767364200000000],
    ['2026-01-02 14:30:00', 1767364200000000],
    ['2026-01-02', 1767312000000000],
    ['0', 0],
  ])('%s -> %d µs', (raw, us) => {
    expect(parseTimeParam(raw, 'from')).toBe(us);
  });

  it('is exact to the microsecond where floats are not', () => {
    // 1767364200.123457 s has no exact double; the digits are read as integers.
    expect(parseTimeParam('2026-01-02T14:30:00.123457Z', 'to')).toBe(1767364200123457);
  });

  it.each([
    'yesterday',
    '2026-13-01',
    '2026-02-30T00:00:00Z',
    '2026-01-02T24:00:00Z',
    '2026-01-02T14:60:00Z',
    '2026-01-02T14:30:00+25:00',
    '-5',
    '1.5',
    '99999999999999999999',
    '',
  ])('rejects %j naming the parameter', (raw) => {
    expect(() => parseTimeParam(raw, 'since')).toThrow(BadRequestError);
    try {
      parseTimeParam(raw, 'since');
    } catch (err) {
      expect((err as BadRequestError).parameter).toBe('since');
      expect((err as Error).message).toMatch(/^since /);
    }
  });
});

describe('parseRange', () => {
  it('accepts mixed formats and requires from < to', () => {
    expect(parseRange('2026-01-02T14:30:00Z', '1767364260000000')).toEqual({
      from: 1767364200000000,
      to: 1767364260000000,
    });
    expect(parseRange(undefined, undefined)).toEqual({ from: undefined, to: undefined });
    expect(() => parseRange('2026-01-02T14:31:00Z', '2026-01-02T14:30:00Z')).toThrow(
      /from must be before to/,
    );
    expect(() => parseRange('2026-01-02T14:30:00Z', '2026-01-02T14:30:00Z')).toThrow(BadRequestError);
  });
});

describe('buckets', () => {
  it('aligns to the epoch like date_bin', () => {
    expect(bucketStartUs(1767364259999999, 60_000_000)).toBe(1767364200000000);
    expect(bucketStartUs(1767364200000000, 300_000_000)).toBe(1767364200000000);
    expect(bucketStartUs(1767364199999999, 300_000_000)).toBe(1767363900000000);
    expect(bucketStartUs(-1, 60_000_000)).toBe(-60_000_000);
  });

  it('bounds a query without from to `limit` buckets ending at the newest trade', () => {
    expect(defaultFromUs(1767364259000000, 60_000_000, 1)).toBe(1767364200000000);
    expect(defaultFromUs(1767364259000000, 60_000_000, 500)).toBe(1767364200000000 - 499 * 60_000_000);
  });
});

describe('parseSymbolList', () => {
  it('splits, trims and validates', () => {
    expect(parseSymbolList('AAPL, BTCUSDT', SYMBOL)).toEqual(new Set(['AAPL', 'BTCUSDT']));
    expect(parseSymbolList(undefined, SYMBOL)).toBeUndefined();
    expect(parseSymbolList(' ', SYMBOL)).toBeUndefined();
    expect(() => parseSymbolList('AAPL,aapl', SYMBOL)).toThrow(/symbols must be/);
    expect(() => parseSymbolList('AAPL,,MSFT', SYMBOL)).toThrow(BadRequestError);
  });
});
