import { defineConfig } from 'vitest/config';

// End-to-end: real Chromium (playwright-core) against `embedsmith serve` on the built renderer.
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
