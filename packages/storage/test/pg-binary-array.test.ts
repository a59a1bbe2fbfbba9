import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ELEMENT_TYPE_OID,
  encodeNumberArray,
  encodeTextArray,
  POSTGRES_EPOCH_OFFSET_US,
  utf8Length,
} from '../src/pg-binary-array.ts';

/** Reads a one-dimensional, null-free binary array the way array_recv does, checking every header word. */
function decode(buf: Buffer, elementOid: number): Buffer[] {
  expect(buf.readInt32BE(0)).toBe(1); // ndim
  expect(buf.readInt32BE(4)).toBe(0); // no nulls
  expect(buf.readUInt32BE(8)).toBe(elementOid);
  const length = buf.readInt32BE(12);
  expect(buf.readInt32BE(16)).toBe(1); // lower bound
  const out: Buffer[] = [];
  let off = 20;
  for (let i = 0; i < length; i++) {
    const n = buf.readInt32BE(off);
    out.push(buf.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  expect(off).toBe(buf.length); // nothing left over, nothing missing
  return out;
}

/** Any UTF-16 code units, lone surrogates included. */
const anyCodeUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});

describe('encodeTextArray', () => {
  it('round-trips any string as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), anyCodeUnits)), (values) => {
        const lengths = values.map(utf8Length);
        const elements = decode(encodeTextArray(values, lengths), ELEMENT_TYPE_OID.text);
        expect(elements.map((e) => e.toString('utf8'))).toEqual(values.map((v) => Buffer.from(v).toString()));
      }),
    );
  });

  it('encodes only the requested range', () => {
    const values = ['a', 'bb', '', 'dddd'];
    const elements = decode(encodeTextArray(values, values.map(utf8Length), 1, 3), ELEMENT_TYPE_OID.text);
    expect(elements.map(String)).toEqual(['bb', '']);
  });
});

describe('encodeNumberArray', () => {
  it('writes float8 as big-endian IEEE doubles, special values included', () => {
    fc.assert(
      fc.property(fc.array(fc.double()), (values) => {
        const elements = decode(encodeNumberArray('float8', values), ELEMENT_TYPE_OID.float8);
        expect(elements.map((e) => e.readDoubleBE(0))).toEqual(values);
      }),
    );
  });

  it('writes int8 as big-endian two-complement for every safe integer', () => {
    const safe = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(fc.array(fc.oneof(safe, fc.integer())), (values) => {
        const elements = decode(encodeNumberArray('int8', values), ELEMENT_TYPE_OID.int8);
        expect(elements.map((e) => Number(e.readBigInt64BE(0)))).toEqual(values);
      }),
    );
  });

  it('writes timestamptz as µs since 2000-01-01', () => {
    const us = 1_767_364_200_123_457; // 2026-01-02T14:30:00.123457Z
    const [e] = decode(encodeNumberArray('timestamptz', [us]), ELEMENT_TYPE_OID.timestamptz);
    expect(e?.readBigInt64BE(0)).toBe(BigInt(us - POSTGRES_EPOCH_OFFSET_US));
    expect(POSTGRES_EPOCH_OFFSET_US).toBe(Date.UTC(2000, 0, 1) * 1000);
  });

  it('refuses integers it cannot write exactly, naming the element', () => {
    expect(() => encodeNumberArray('int8', [1, 2 ** 53])).toThrow(/int8 element 1 must be a safe integer/);
    expect(() => encodeNumberArray('timestamptz', [Number.NaN])).toThrow(RangeError);
  });
});

describe('utf8Length', () => {
  it('equals Buffer.byteLength for any code units, surrogate pairs and lone surrogates included', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), anyCodeUnits), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      }),
    );
    expect(utf8Length('€𝄞a')).toBe(3 + 4 + 1);
  });
});
