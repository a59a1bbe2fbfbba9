// Prints vitest's JSON results as one plain closing line, `vitest: N passed, N failed, N skipped`,
// so CI logs say how many tests ran whatever reporter is in front. A test file that failed outside
// any test (a beforeAll hook timing out, an import error) counts as one failure: vitest reports its
// tests as skipped, and the line must not read "0 failed" for a red run.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.tickflow/test-results.json';
const r = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{ status: string; assertionResults: Array<{ status: string }> }>;
};
const failedOutsideTests = r.testResults.filter(
  (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
).length;
process.stdout.write(
  `vitest: ${r.numPassedTests} passed, ${r.numFailedTests + failedOutsideTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`,
);
