// Writes charts/tickflow/crds/marketdatapipelines.yaml from apps/operator/src/crd.ts.
// `--check` exits 1 when the file is stale instead of writing it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { crdYaml } from '../src/crd.ts';

export const CRD_FILE = resolve(
  import.meta.dirname,
  '../../../charts/tickflow/crds/marketdatapipelines.yaml',
);

if (import.meta.main) {
  const text = crdYaml();
  if (process.argv.includes('--check')) {
    const current = existsSync(CRD_FILE) ? readFileSync(CRD_FILE, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${CRD_FILE} is stale: run node apps/operator/scripts/write-crd.ts\n`);
      process.exit(1);
    }
  } else {
    mkdirSync(dirname(CRD_FILE), { recursive: true });
    writeFileSync(CRD_FILE, text);
    process.stdout.write(`wrote ${CRD_FILE}\n`);
  }
}
