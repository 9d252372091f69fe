import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Dev (and so the local runtime) has one partition per queue; the shared test runtime runs
          // two, so the partitioned topology stays under test (partitions.test.ts runs four).
          env: { PARTITIONS: '2' },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The fault run, short (npm run chaos): a PostgreSQL, RabbitMQ and Redis of its own, stopped
        // and restarted under load. Last, after the browser project: the load it offers should not
        // share the machine with timing-sensitive tests.
        test: {
          name: 'stack',
          include: ['test/stack/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'cdk',
          include: ['test/cdk/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One module graph for the project's files: aws-cdk-lib is loaded once, and the apps the
          // files read are built once (test/cdk/support.ts), not once per file.
          isolate: false,
        },
      },
      {
        // The dashboard in Debian's chromium against a runtime of its own (web/ itself is never collected).
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          // After the other projects: a browser and a busy page add load that timing-sensitive
          // integration tests should not share.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
