import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,electron,renderer,test}/**/*.test.{ts,tsx}'],
    // Integration tests own real files, processes and mounts; run them on real time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails a run that leaves Drover containers or snapshot images in the Docker engine.
    globalSetup: ['test/support/docker-leftovers.ts'],
  },
});
