// End-to-end suites (real nginx, real headless Chromium): `npm run test:e2e`. Kept apart
// from `npm test` because they need system packages; with those missing they fail.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  { resolve: base.resolve },
  defineConfig({
    test: {
      include: ['test/e2e/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // One browser and one nginx at a time keep the machine's load predictable.
      fileParallelism: false,
    },
  }),
);
