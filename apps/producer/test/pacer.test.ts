import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pacer, rateReport } from '../src/sources/index.ts';

describe('Pacer', () => {
  it('achieves the exact long-run rate under irregular ticks', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 200_000, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (rate, startMs, gaps) => {
          const pacer = new Pacer({ ratePerSec: rate, startMs });
          let now = startMs;
          let sent = 0;
          for (const gap of gaps) {
            now += gap;
            const n = pacer.due(now);
            expect(Number.isInteger(n) && n >= 0).toBe(true);
            sent += n;
          }
          expect(pacer.dropped).toBe(0);
          expect(sent).toBe(Math.floor((rate * (now - startMs)) / 1000));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('releases fractional debt: 2.5 msg/s over 10 s of 10 ms ticks sends 25', () => {
    const pacer = new Pacer({ ratePerSec: 2.5, startMs: 0 });
    let sent = 0;
    for (let t = 10; t <= 10_000; t += 10) sent += pacer.due(t);
    expect(sent).toBe(25);
  });

  it('caps the burst after a stall and resumes the schedule from there', () => {
    const pacer = new Pacer({ ratePerSec: 1_000, startMs: 0 });
    expect(pacer.maxBurst).toBe(250);
    expect(pacer.due(10)).toBe(10);
    expect(pacer.due(10_010)).toBe(250); // 10 s stall: 10,000 owed
    expect(pacer.dropped).toBe(9_750);
    expect(pacer.due(10_020)).toBe(10);
    const custom = new Pacer({ ratePerSec: 1_000, startMs: 0, maxBurst: 5 });
    expect(custom.due(1_000)).toBe(5);
  });

  it('sends nothing when the clock goes backwards', () => {
    const pacer = new Pacer({ ratePerSec: 100, startMs: 1_000 });
    expect(pacer.due(900)).toBe(0);
    expect(pacer.due(1_100)).toBe(10);
    expect(pacer.due(1_050)).toBe(0);
  });

  it('tells how long to sleep until the next message', () => {
    const pacer = new Pacer({ ratePerSec: 10, startMs: 0 });
    expect(pacer.msUntilNext(0)).toBeCloseTo(100);
    expect(pacer.due(250)).toBe(2);
    expect(pacer.msUntilNext(250)).toBeCloseTo(50);
    expect(pacer.msUntilNext(400)).toBe(0);
  });

  it('releases a fixed batch per call for an unbounded rate', () => {
    const pacer = new Pacer({ ratePerSec: Number.POSITIVE_INFINITY, startMs: 0 });
    expect(pacer.due(0)).toBe(1024);
    expect(pacer.due(0)).toBe(1024);
    expect(pacer.msUntilNext(0)).toBe(0);
    expect(new Pacer({ ratePerSec: Number.POSITIVE_INFINITY, startMs: 0, maxBurst: 64 }).due(1)).toBe(64);
  });

  it('rejects nonsensical rates', () => {
    for (const rate of [0, -1, Number.NaN]) {
      expect(() => new Pacer({ ratePerSec: rate, startMs: 0 })).toThrow(/rate/);
    }
  });
});

describe('rateReport', () => {
  it('compares achieved with requested', () => {
    expect(rateReport(1_000, 9_500, 10_000)).toEqual({
      requestedPerSec: 1_000,
      achievedPerSec: 950,
      ratio: 0.95,
    });
    expect(rateReport(Number.POSITIVE_INFINITY, 50_000, 1_000)).toEqual({
      requestedPerSec: Number.POSITIVE_INFINITY,
      achievedPerSec: 50_000,
      ratio: null,
    });
    expect(rateReport(100, 0, 0).ratio).toBeNull();
  });
});
