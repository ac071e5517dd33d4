import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{infra,functions,shared,cli,integ,bench}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/cdk.out/**', '**/*.snapshot/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './vitest.summary-reporter.ts'],
    // handlers log through Powertools; tests assert on audit records and results, not log lines
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
