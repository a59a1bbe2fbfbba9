import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../../scripts/config-docs.ts';

describe('docs/configuration.md', () => {
  it('matches the configuration schemas (regenerate with node scripts/config-docs.ts)', async () => {
    const committed = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(await renderConfigDocs());
  });
});
