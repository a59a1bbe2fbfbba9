// The page's TypeScript (web/) has its own tsconfig (DOM types, bundler resolution), outside the root
// typecheck; this keeps it checked by `npm test` without another step in the Makefile.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('web page sources', () => {
  it('typecheck with web/tsconfig.json', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const project = fileURLToPath(new URL('../web/tsconfig.json', import.meta.url));
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', project, '--noEmit'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    }
    expect(output).toBe('');
  }, 120_000);
});
