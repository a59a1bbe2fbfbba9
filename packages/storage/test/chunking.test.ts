import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planChunks } from '../src/chunking.ts';

describe('planChunks', () => {
  it('covers every row once, in order, within both limits (a lone oversized row gets its own chunk)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 3000 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 50_000 }),
        (rowBytes, maxRows, maxBytes) => {
          const chunks = planChunks(rowBytes, { maxRows, maxBytes });
          let next = 0;
          for (const [start, end] of chunks) {
            expect(start).toBe(next);
            expect(end).toBeGreaterThan(start);
            expect(end - start).toBeLessThanOrEqual(maxRows);
            const bytes = rowBytes.slice(start, end).reduce((a, b) => a + b, 0);
            if (end - start > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
            next = end;
          }
          expect(next).toBe(rowBytes.length);
        },
      ),
    );
  });

  it('packs greedily: 1200 rows at 500 per chunk make 500 + 500 + 200', () => {
    expect(
      planChunks(new Array(1200).fill(10), { maxRows: 500, maxBytes: Number.POSITIVE_INFINITY }),
    ).toEqual([
      [0, 500],
      [500, 1000],
      [1000, 1200],
    ]);
  });

  it('cuts on bytes before rows when rows are large', () => {
    expect(planChunks([40, 40, 40, 40], { maxRows: 500, maxBytes: 100 })).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it('returns no chunk for no rows and rejects nonsense limits', () => {
    expect(planChunks([], { maxRows: 5, maxBytes: 10 })).toEqual([]);
    expect(() => planChunks([1], { maxRows: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => planChunks([1], { maxRows: 1, maxBytes: 0 })).toThrow(RangeError);
  });
});
