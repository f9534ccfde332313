import { defineConfig } from 'vitest/config';

/**
 * The fault suite (test/faults): real `demo-seed api` and `demo-seed worker` processes,
 * private Redis and PostgreSQL servers killed and restarted, backends terminated.
 * `npx vitest run -c vitest.faults.config.ts` (or `npm run test:faults`); add
 * FAULTS_QUICK=1 for the short variants. One file at a time: each starts its own
 * PostgreSQL cluster, Redis server and 3-4 demo-seed processes, and keeps 2 cores busy.
 */
export default defineConfig({
  test: {
    // The image test too (test/deploy/image.test.ts): it needs the machine to itself as much as these do.
    include: ['test/faults/**/*.test.ts', 'test/deploy/image.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    env: { FAULTS_SUITE: '1' },
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-faults-results.json' }]] : ['default'],
  },
});
