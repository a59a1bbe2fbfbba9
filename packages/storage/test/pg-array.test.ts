import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayLiteral, floatElement, intElement, textElement, utf8Length } from '../src/pg-array.ts';

/** Reads back a quoted array element the way PostgreSQL's array_in does (backslash escapes any char). */
function unquote(element: string): string {
  expect(element.startsWith('"') && element.endsWith('"')).toBe(true);
  let out = '';
  for (let i = 1; i < element.length - 1; i++) {
    const c = element[i] as string;
    if (c === '\\') out += element[++i];
    else {
      expect(c).not.toBe('"'); // an unescaped quote would end the element early
      out += c;
    }
  }
  return out;
}

describe('textElement', () => {
  it('quotes every value, so empty, NULL-like and delimiter-laden values stay text', () => {
    expect(textElement('')).toBe('""');
    expect(textElement('NULL')).toBe('"NULL"');
    expect(textElement('a,b{c}')).toBe('"a,b{c}"');
    expect(textElement('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
  });

  it('round-trips any string through array_in unquoting', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(unquote(textElement(s))).toBe(s);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }), (s) => {
        expect(unquote(textElement(s))).toBe(s);
      }),
    );
  });
});

describe('numeric elements', () => {
  it('writes doubles in shortest round-trip form and the special values by name', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Number(floatElement(x))).toBe(x);
      }),
    );
    expect(floatElement(Number.NaN)).toBe('NaN');
    expect(floatElement(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(floatElement(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(intElement(1_767_364_200_123_457)).toBe('1767364200123457');
  });

  it('joins elements into a literal', () => {
    expect(arrayLiteral(['1', '2'])).toBe('{1,2}');
    expect(arrayLiteral([])).toBe('{}');
  });
});

describe('utf8Length', () => {
  it('equals Buffer.byteLength for any string, surrogate pairs included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      }),
    );
    expect(utf8Length('€𝄞a')).toBe(3 + 4 + 1);
  });
});
