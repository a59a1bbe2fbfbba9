import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSamples, SAMPLES, SAMPLES_DIR } from '../scripts/make-samples.ts';
import { createReplayStats, readReplayFile } from '../src/sources/replay.ts';

describe('shipped samples (samples/*.jsonl)', () => {
  it('are exactly what the record path produces from the fake exchanges (regenerate: node apps/producer/scripts/make-samples.ts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tickflow-samples-'));
    try {
      const fresh = await makeSamples(dir);
      expect(await readFile(fresh.binance, 'utf8')).toBe(
        await readFile(join(SAMPLES_DIR, SAMPLES.binance.file), 'utf8'),
      );
      expect(await readFile(fresh.finnhub, 'utf8')).toBe(
        await readFile(join(SAMPLES_DIR, SAMPLES.finnhub.file), 'utf8'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['binance', 300, 0],
    ['finnhub', 600, 24],
  ] as const)(
    '%s replays cleanly: %i trades, %i skipped keep-alives, nothing malformed',
    async (format, trades, skipped) => {
      const stats = createReplayStats();
      const symbols = new Set<string>();
      for await (const t of readReplayFile(join(SAMPLES_DIR, SAMPLES[format].file), format, { stats })) {
        expect(t.source).toBe(format);
        symbols.add(t.symbol);
      }
      expect(stats).toMatchObject({ trades, skipped, malformed: 0 });
      expect([...symbols].sort()).toEqual([...SAMPLES[format].symbols].sort());
    },
  );
});
