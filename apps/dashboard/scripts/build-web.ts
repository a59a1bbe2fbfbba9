// `npm run build -w @tickflow/dashboard`: builds the page into apps/dashboard/dist-web (always; the server
// itself rebuilds only when the bundle is missing or stale). `--if-stale` skips a current bundle.
import { buildWebBundle, bundleIsCurrent } from '../src/web-bundle.ts';

const ifStale = process.argv.includes('--if-stale');
if (ifStale && bundleIsCurrent()) {
  process.stderr.write('dashboard page is up to date\n');
} else {
  await buildWebBundle((line) => process.stderr.write(`${line}\n`));
}
