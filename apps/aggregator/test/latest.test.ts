import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesceLatest, isNewer } from '../src/core/latest.ts';

interface T {
  symbol: string;
  eventTimeUs: number;
  id: number;
}

describe('isNewer', () => {
  it('accepts anything over nothing, newer or equal event time, and refuses older', () => {
    const current = { symbol: 'AAPL', eventTimeUs: 100 };
    expect(isNewer(current, undefined)).toBe(true);
    expect(isNewer(current, null)).toBe(true);
    expect(isNewer({ symbol: 'AAPL', eventTimeUs: 101 }, current)).toBe(true);
    expect(isNewer({ symbol: 'AAPL', eventTimeUs: 100 }, current)).toBe(true); // tie: the later arrival wins
    expect(isNewer({ symbol: 'AAPL', eventTimeUs: 99 }, current)).toBe(false);
  });
});

describe('coalesceLatest', () => {
  it('keeps the newest trade per symbol by event time, the later one in the batch on ties', () => {
    const batch: T[] = [
      { symbol: 'AAPL', eventTimeUs: 5, id: 0 },
      { symbol: 'MSFT', eventTimeUs: 3, id: 1 },
      { symbol: 'AAPL', eventTimeUs: 4, id: 2 }, // older: ignored
      { symbol: 'MSFT', eventTimeUs: 3, id: 3 }, // tie: replaces id 1
      { symbol: 'AAPL', eventTimeUs: 7, id: 4 },
    ];
    const latest = coalesceLatest(batch);
    expect([...latest.keys()]).toEqual(['AAPL', 'MSFT']);
    expect(latest.get('AAPL')?.id).toBe(4);
    expect(latest.get('MSFT')?.id).toBe(3);
    expect(coalesceLatest([]).size).toBe(0);
  });

  it('matches a stable sort by event time, last per symbol', () => {
    const batch = fc
      .array(
        fc.record({ symbol: fc.constantFrom('A', 'B', 'C'), eventTimeUs: fc.integer({ min: 0, max: 5 }) }),
        {
          maxLength: 60,
        },
      )
      .map((xs) => xs.map((x, id): T => ({ ...x, id })));
    fc.assert(
      fc.property(batch, (trades) => {
        const expected = new Map<string, T>();
        for (const t of [...trades].sort((a, b) => a.eventTimeUs - b.eventTimeUs)) expected.set(t.symbol, t);
        const actual = coalesceLatest(trades);
        expect(new Map([...actual].sort())).toEqual(new Map([...expected].sort()));
        // Folding isNewer over the batch, as Redis sees successive writes, ends at the same trades.
        for (const [symbol, t] of actual) {
          let stored: T | undefined;
          for (const c of trades) if (c.symbol === symbol && isNewer(c, stored)) stored = c;
          expect(stored).toBe(t);
        }
      }),
    );
  });
});
