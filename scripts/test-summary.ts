// Prints vitest's JSON results as one plain closing line, `vitest: N passed, N failed, N skipped`,
// so CI logs say how many tests ran whatever reporter is in front.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.tickflow/test-results.json';
const r = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
};
process.stdout.write(
  `vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`,
);
