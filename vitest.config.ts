import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no services; `integration` starts real Kafka, Redis and
// PostgreSQL (see packages/stack) and therefore runs its files one at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,packages}/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{apps,packages}/*/test/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          fileParallelism: false,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
