// Tests run against the TypeScript sources: each published entry point is aliased to
// its source file, so no build is needed before `vitest` and coverage maps to src/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@zitauth\/example-quotes-common$/,
        replacement: fileURLToPath(
          new URL('./examples/quotes-common/src/index.ts', import.meta.url),
        ),
      },
      { find: /^@zitauth\/core\/([a-z-]+)$/, replacement: src('core/src/$1.ts') },
      { find: /^@zitauth\/([a-z-]+)$/, replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // test/packaging/fresh-project is a user's project, run by its own vitest after install.
    exclude: ['**/node_modules/**', 'test/e2e/**', 'test/packaging/fresh-project/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['packages/*/src/**/cli.ts', 'packages/*/src/bin/**'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: {
        'packages/core/src/**': { branches: 95, statements: 95, functions: 95, lines: 95 },
      },
    },
  },
});
