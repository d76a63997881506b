import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real etcd, BIRD, GoBGP and network namespaces: give them room, and run
    // files in separate processes so a crashed file cannot leave another's state behind.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // Components under test log through pino; only errors belong in the test output.
    env: { TERN_LOG_LEVEL: process.env.TERN_LOG_LEVEL ?? 'error' },
  },
});
