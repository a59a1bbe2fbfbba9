import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR, generate } from '../scripts/generate.ts';

describe('generated code', () => {
  it('src/gen matches a fresh generation from proto/tickflow/v1/market.proto', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tickflow-gen-'));
    try {
      await generate(dir);
      for (const name of ['market.js', 'market.d.ts']) {
        const fresh = await readFile(join(dir, name), 'utf8');
        const checkedIn = await readFile(join(DEFAULT_OUT_DIR, name), 'utf8').catch(() => '<missing>');
        if (fresh !== checkedIn) {
          expect.fail(
            `packages/contracts/src/gen/${name} is stale: run npm run generate -w @tickflow/contracts`,
          );
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
