// Renders docs/configuration.md from the apps' configuration schemas, so the documented variables,
// flags and defaults are the ones the code validates. `node scripts/config-docs.ts --check` fails
// when the committed file is stale (run by the unit tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ConfigSpec, fields } from '@tickflow/config';

export async function renderConfigDocs(): Promise<string> {
  const sections: Array<[string, string, ConfigSpec]> = [
    [
      'tickflow produce',
      'apps/producer/src/config.ts',
      (await import('@tickflow/producer')).producerConfigSpec,
    ],
    [
      'tickflow aggregate',
      'apps/aggregator/src/config.ts',
      (await import('@tickflow/aggregator')).aggregatorConfigSpec,
    ],
    [
      'tickflow dashboard',
      'apps/dashboard/src/config.ts',
      (await import('../apps/dashboard/src/config.ts')).dashboardConfigSpec,
    ],
    [
      'tickflow operator',
      'apps/operator/src/config.ts',
      (await import('../apps/operator/src/config.ts')).operatorConfigSpec,
    ],
    ['tickflow bench', 'apps/bench/src/config.ts', (await import('@tickflow/bench/config')).benchConfigSpec],
  ];
  const out = [
    '# Configuration',
    '',
    'Generated from the configuration schemas by `node scripts/config-docs.ts`; do not edit by hand.',
    'Every app reads its environment first; a flag overrides the variable. Invalid values stop the app at start-up',
    'with a message naming the variable or flag.',
    '',
  ];
  for (const [title, file, spec] of sections) {
    out.push(
      `## \`${title}\``,
      '',
      `Schema: \`${file}\``,
      '',
      '| flag | environment | default | meaning |',
      '|---|---|---|---|',
    );
    for (const field of Object.values(spec)) {
      const parsed = field.schema.safeParse(undefined);
      const def = parsed.success
        ? formatDefault(parsed.data, field.schema.description === fields.DURATION)
        : '(required)';
      const flag = field.flag ? `\`--${field.flag}\`` : '';
      const env = field.env ? `\`${field.env}\`` : '';
      out.push(`| ${flag} | ${env} | ${def} | ${field.help.replaceAll('|', '\\|')} |`);
    }
    out.push('');
  }
  return `${out.join('\n')}`;
}

function formatDefault(v: unknown, duration: boolean): string {
  if (v === undefined) return '–';
  if (duration && typeof v === 'number') return `\`${v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`}\``;
  if (Array.isArray(v)) return `\`${v.join(',')}\``;
  if (typeof v === 'string' && /^tickflow-(producer|aggregator)-\d+$/.test(v))
    return `\`${v.replace(/\d+$/, '<pid>')}\``;
  return `\`${String(v)}\``;
}

const target = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

if (import.meta.main) {
  const text = await renderConfigDocs();
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      process.stderr.write('docs/configuration.md is stale: run node scripts/config-docs.ts\n');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
