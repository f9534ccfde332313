import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full fault suite restarts servers and takes minutes: `npm run test:faults`.
    // The image test (podman builds and containers) runs alone, with the fault suite: beside other
    // files its containers and theirs could exhaust PostgreSQL's connections.
    exclude: ['test/faults/**', 'test/deploy/image.test.ts', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files each create their own databases and queue prefix, so they may run side by side.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
